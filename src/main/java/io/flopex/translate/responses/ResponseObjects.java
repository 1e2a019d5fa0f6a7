package io.flopex.translate.responses;

import io.flopex.bus.Usage;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.UUID;

/**
 * The parts of a Responses API {@code response} object that do not depend on the provider: its
 * envelope, which repeats the client's request parameters as the API does, its usage, and ids.
 */
public final class ResponseObjects {

  private ResponseObjects() {}

  /** A fresh id such as {@code msg_1f0c...}, for an output item. */
  static String id(String prefix) {
    return prefix + "_" + UUID.randomUUID().toString().replace("-", "");
  }

  /**
   * The response without {@code output} and {@code usage}. {@code store} is always false: Flopex
   * keeps no conversation content, so nothing can be retrieved or continued later.
   */
  static JsonObject envelope(String id, long createdAt, String model, JsonObject client,
      String status) {
    JsonObject c = client == null ? new JsonObject() : client;
    JsonObject reasoning = c.getValue("reasoning") instanceof JsonObject r
        ? new JsonObject().put("effort", r.getValue("effort")).put("summary", r.getValue("summary"))
        : new JsonObject().putNull("effort").putNull("summary");
    JsonObject text = c.getValue("text") instanceof JsonObject t && t.containsKey("format")
        ? t.copy() : new JsonObject().put("format", new JsonObject().put("type", "text"));
    return new JsonObject()
        .put("id", id)
        .put("object", "response")
        .put("created_at", createdAt)
        .put("status", status)
        .put("background", false)
        .putNull("error")
        .putNull("incomplete_details")
        .put("instructions", c.getValue("instructions"))
        .put("max_output_tokens", c.getValue("max_output_tokens"))
        .put("model", model)
        .put("output", new JsonArray())
        .put("parallel_tool_calls", !Boolean.FALSE.equals(c.getValue("parallel_tool_calls")))
        .putNull("previous_response_id")
        .put("reasoning", reasoning)
        .put("store", false)
        .put("temperature", c.getValue("temperature"))
        .put("text", text)
        .put("tool_choice", c.getValue("tool_choice") != null ? c.getValue("tool_choice")
            : "auto")
        .put("tools", c.getValue("tools") instanceof JsonArray tools ? tools.copy()
            : new JsonArray())
        .put("top_p", c.getValue("top_p"))
        .put("truncation", "disabled")
        .putNull("usage")
        .put("user", c.getValue("user"))
        .put("metadata", c.getValue("metadata") instanceof JsonObject m ? m.copy()
            : new JsonObject());
  }

  /**
   * Responses usage: {@code input_tokens} counts the cached ones, as OpenAI's prompt tokens do,
   * and {@code output_tokens} the reasoning ones. Tokens written to a provider's cache, which
   * the API has no field for, are added as {@code input_tokens_details.cache_write_tokens}.
   */
  public static JsonObject usage(Usage u) {
    JsonObject inputDetails = new JsonObject().put("cached_tokens", u.cachedTokens());
    if (u.cacheWriteTokens() > 0) {
      inputDetails.put("cache_write_tokens", u.cacheWriteTokens());
    }
    return new JsonObject()
        .put("input_tokens", u.promptTokens())
        .put("input_tokens_details", inputDetails)
        .put("output_tokens", u.completionTokens())
        .put("output_tokens_details",
            new JsonObject().put("reasoning_tokens", u.reasoningTokens()))
        .put("total_tokens", u.promptTokens() + u.completionTokens());
  }

  /**
   * The status a finish reason gives the response: {@code incomplete} with its reason when the
   * output was cut short by the limit or a content filter, else {@code completed}.
   */
  static JsonObject incompleteDetails(String finishReason) {
    if ("length".equals(finishReason)) {
      return new JsonObject().put("reason", "max_output_tokens");
    }
    if ("content_filter".equals(finishReason)) {
      return new JsonObject().put("reason", "content_filter");
    }
    return null;
  }

  static JsonObject outputText(String text) {
    return new JsonObject().put("type", "output_text").put("text", text)
        .put("annotations", new JsonArray()).put("logprobs", new JsonArray());
  }

  static JsonObject refusal(String text) {
    return new JsonObject().put("type", "refusal").put("refusal", text);
  }

  static JsonObject reasoningText(String text) {
    return new JsonObject().put("type", "reasoning_text").put("text", text);
  }
}
