package io.flopex.translate.messages;

import io.flopex.translate.ClientEvent;
import io.vertx.core.json.JsonObject;

/** Events of Anthropic's stream format that Flopex writes itself. */
final class AnthropicEvents {

  private AnthropicEvents() {}

  /** The terminal {@code event: error} of a stream that failed after output started. */
  static ClientEvent error(String message) {
    return new ClientEvent("error", new JsonObject().put("type", "error")
        .put("error", new JsonObject().put("type", "api_error").put("message", message)));
  }
}
