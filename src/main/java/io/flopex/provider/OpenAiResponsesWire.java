package io.flopex.provider;

import io.flopex.config.ProviderConfig;
import io.vertx.core.json.JsonObject;

/**
 * OpenAI's Responses API, for providers that serve it natively: {@code POST {baseUrl}/responses}
 * with a bearer key. Its stream is typed events; it has ended cleanly once it sent {@code
 * response.completed} or {@code response.incomplete}, and has failed on {@code error} or {@code
 * response.failed}.
 */
final class OpenAiResponsesWire extends OpenAiWire {

  OpenAiResponsesWire(ProviderConfig provider) {
    super(provider, "/responses");
  }

  @Override
  public StreamWatch watch() {
    return new StreamWatch() {
      private boolean finished;

      @Override
      public boolean isError(String event, JsonObject data) {
        String type = data == null ? event
            : data.getValue("type") instanceof String t ? t : event;
        if ("error".equals(type) || "response.failed".equals(type)) {
          return true;
        }
        if ("response.completed".equals(type) || "response.incomplete".equals(type)) {
          finished = true;
        }
        return false;
      }

      @Override
      public boolean complete() {
        return finished;
      }

      @Override
      public boolean ended() {
        return finished;
      }
    };
  }
}
