package io.flopex.bus;

import io.vertx.core.json.JsonObject;

/**
 * What a provider sends, in order, to the stream address of a streaming {@link ProviderCall}:
 * any number of chunks, then exactly one {@link End} or {@link Failed}.
 */
public sealed interface StreamEvent {

  /** The call this event belongs to, so a late event of an abandoned attempt can be ignored. */
  String callId();

  /** One upstream event: its name ({@code message} when it had none) and its data, parsed. */
  record Chunk(String callId, String event, JsonObject data) implements StreamEvent {}

  /** The upstream stream finished cleanly. */
  record End(String callId) implements StreamEvent {}

  /** The stream failed; nothing more follows. */
  record Failed(String callId, ProviderFailure failure) implements StreamEvent {}
}
