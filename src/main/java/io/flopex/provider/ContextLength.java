package io.flopex.provider;

import io.vertx.core.json.JsonObject;
import java.util.Locale;

/**
 * Recognises a provider's way of saying that the prompt is longer than the model's window, in
 * the words OpenAI, OpenAI-compatible hosts, Anthropic and Gemini use.
 */
final class ContextLength {

  private ContextLength() {}

  static boolean exceeded(JsonObject error) {
    if ("context_length_exceeded".equals(error.getValue("code"))) {
      return true;
    }
    if (!(error.getValue("message") instanceof String message)) {
      return false;
    }
    String m = message.toLowerCase(Locale.ROOT);
    return m.contains("context length") || m.contains("context_length")
        || m.contains("context window") || m.contains("prompt is too long")
        || (m.contains("input token count") && m.contains("exceeds"))
        || m.contains("maximum context");
  }
}
