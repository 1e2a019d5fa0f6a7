package io.flopex.bus;

import io.vertx.core.json.JsonObject;

/**
 * Token counts of one answer, in OpenAI's convention: {@code promptTokens} includes {@code
 * cachedTokens} (read from the provider's cache) and {@code cacheWriteTokens} (written to it), and
 * {@code completionTokens} includes {@code reasoningTokens}. {@code estimated} is true when
 * upstream did not report usage and Flopex counted for itself.
 */
public record Usage(
    long promptTokens,
    long completionTokens,
    long cachedTokens,
    long cacheWriteTokens,
    long reasoningTokens,
    boolean estimated) {

  public static final Usage NONE = new Usage(0, 0, 0, 0, 0, false);

  /** Usage without cache writes, as OpenAI-format providers report it. */
  public Usage(long promptTokens, long completionTokens, long cachedTokens, long reasoningTokens,
      boolean estimated) {
    this(promptTokens, completionTokens, cachedTokens, 0, reasoningTokens, estimated);
  }

  /**
   * Reads an Anthropic {@code usage} object, whose {@code input_tokens} excludes the cache
   * fields; {@code null} when there is none.
   */
  public static Usage fromAnthropic(Object raw) {
    if (!(raw instanceof JsonObject u)) {
      return null;
    }
    long input = number(u, "input_tokens");
    long cacheRead = number(u, "cache_read_input_tokens");
    long cacheWrite = number(u, "cache_creation_input_tokens");
    return new Usage(input + cacheRead + cacheWrite, number(u, "output_tokens"), cacheRead,
        cacheWrite, 0, false);
  }

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

  /**
   * Usage as the OpenAI Responses API reports it: input tokens include the cached ones, output
   * tokens the reasoning ones, as in Chat Completions.
   */
  public static Usage fromResponses(Object raw) {
    if (!(raw instanceof JsonObject u)) {
      return null;
    }
    long input = number(u, "input_tokens");
    long output = number(u, "output_tokens");
    long cached = u.getValue("input_tokens_details") instanceof JsonObject d
        ? number(d, "cached_tokens") : 0;
    long reasoning = u.getValue("output_tokens_details") instanceof JsonObject d
        ? number(d, "reasoning_tokens") : 0;
    return new Usage(input, output, Math.min(cached, input), Math.min(reasoning, output), false);
  }

  private static long number(JsonObject o, String field) {
    return o.getValue(field) instanceof Number n ? Math.max(0, n.longValue()) : 0;
  }
}
