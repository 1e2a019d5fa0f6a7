package io.flopex.translate;

/**
 * How each provider's reasons for ending an answer map onto OpenAI's {@code finish_reason}. Any
 * reason not listed maps to {@code stop}: the answer ended, for a reason Flopex does not know.
 */
public final class FinishReasons {

  private FinishReasons() {}

  /** Gemini's {@code finishReason}; a function call ends with STOP, so the caller says so. */
  public static String fromGemini(String finishReason, boolean calledFunction) {
    if (finishReason == null) {
      return calledFunction ? "tool_calls" : "stop";
    }
    return switch (finishReason) {
      case "STOP" -> calledFunction ? "tool_calls" : "stop";
      case "MAX_TOKENS" -> "length";
      case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY",
          "LANGUAGE" -> "content_filter";
      default -> "stop";
    };
  }

  public static String fromAnthropic(String stopReason) {
    if (stopReason == null) {
      return "stop";
    }
    return switch (stopReason) {
      case "max_tokens", "model_context_window_exceeded" -> "length";
      case "tool_use" -> "tool_calls";
      case "refusal" -> "content_filter";
      default -> "stop";
    };
  }
}
