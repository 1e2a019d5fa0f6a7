package io.flopex.bus;

import io.vertx.core.json.JsonObject;

/** The answer to a non-streaming {@link ProviderCall}. */
public sealed interface ProviderReply {

  /** A successful upstream answer, as the provider sent it. */
  record Completed(JsonObject body) implements ProviderReply {}

  /** The attempt failed; the caller decides whether another endpoint should be tried. */
  record Failed(ProviderFailure failure) implements ProviderReply {}
}
