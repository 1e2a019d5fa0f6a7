package io.flopex.bus;

import io.vertx.core.json.JsonObject;

/**
 * One attempt to serve a chat request at one endpoint.
 *
 * <p>{@code body} is the request already translated into the provider's format; nobody mutates it
 * once it is sent. For a streaming call, {@code streamAddress} names where the {@link
 * StreamEvent}s go; it is {@code null} otherwise. {@code responsesApi}: the body is an OpenAI
 * Responses request, for a provider that serves that API natively.
 */
public record ProviderCall(
    String callId,
    String requestId,
    Route route,
    JsonObject body,
    String streamAddress,
    boolean responsesApi) {

  /** A Chat Completions call (or the provider format's equivalent). */
  public ProviderCall(String callId, String requestId, Route route, JsonObject body,
      String streamAddress) {
    this(callId, requestId, route, body, streamAddress, false);
  }

  public boolean streaming() {
    return streamAddress != null;
  }
}
