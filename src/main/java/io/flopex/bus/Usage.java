package io.flopex.bus;

import io.vertx.core.json.JsonObject;

/**
 * Token counts of one answer, in OpenAI's convention: {@code promptTokens} includes {@code
 * cachedTokens}, and {@code completionTokens} includes {@code reasoningTokens}. {@code estimated}
 * is true when upstream did not report usage and Flopex counted for itself.
 */
public record Usage(
    long promptTokens,
    long completionTokens,
    long cachedTokens,
    long reasoningTokens,
    boolean estimated) {

  public static final Usage NONE = new Usage(0, 0, 0, 0, false);

  /** Reads an OpenAI-format {@code usage} object; {@code null} when there is none. */
  public static Usage fromOpenAi(Object raw) {
    if (!(raw instanceof JsonObject u)) {
      return null;
    }
    long prompt = number(u, "prompt_tokens");
    long completion = number(u, "completion_tokens");
    long cached = 0;
    long reasoning = 0;
    if (u.getValue("prompt_tokens_details") instanceof JsonObject d) {
      cached = number(d, "cached_tokens");
    }
    if (u.getValue("completion_tokens_details") instanceof JsonObject d) {
      reasoning = number(d, "reasoning_tokens");
    }
    return new Usage(prompt, completion, Math.min(cached, prompt), Math.min(reasoning, completion),
        false);
  }

  private static long number(JsonObject o, String field) {
    return o.getValue(field) instanceof Number n ? Math.max(0, n.longValue()) : 0;
  }
}
