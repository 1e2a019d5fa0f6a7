package io.flopex.bus;

import io.vertx.core.json.JsonObject;

/**
 * One attempt to serve a chat request at one endpoint.
 *
 * <p>{@code request} is the client's validated request body; nobody mutates it once it is sent,
 * so the same object can serve every attempt. The provider copies the top level before it
 * rewrites the model name. For a streaming call, {@code streamAddress} names where the {@link
 * StreamEvent}s go; it is {@code null} otherwise.
 */
public record ProviderCall(
    String callId,
    String requestId,
    Route route,
    JsonObject request,
    String streamAddress) {

  public boolean streaming() {
    return streamAddress != null;
  }
}
