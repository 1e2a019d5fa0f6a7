package io.flopex.translate.openai;

import io.flopex.bus.Usage;
import io.vertx.core.json.JsonObject;

/** The OpenAI {@code usage} object for token counts, whichever provider reported them. */
public final class OpenAiUsage {

  private OpenAiUsage() {}

  /**
   * Prompt tokens include the cached ones and those written to the cache; the cache write count
   * is added as {@code prompt_tokens_details.cache_write_tokens} when there is one.
   */
  public static JsonObject toJson(Usage u) {
    JsonObject promptDetails = new JsonObject().put("cached_tokens", u.cachedTokens());
    if (u.cacheWriteTokens() > 0) {
      promptDetails.put("cache_write_tokens", u.cacheWriteTokens());
    }
    return new JsonObject()
        .put("prompt_tokens", u.promptTokens())
        .put("completion_tokens", u.completionTokens())
        .put("total_tokens", u.promptTokens() + u.completionTokens())
        .put("prompt_tokens_details", promptDetails)
        .put("completion_tokens_details",
            new JsonObject().put("reasoning_tokens", u.reasoningTokens()));
  }
}
