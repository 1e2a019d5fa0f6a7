package io.flopex.usage;

import io.flopex.bus.Usage;
import io.flopex.config.Pricing;

/**
 * The cost of one answer in micro-USD, from integer prices per million tokens. Each token is
 * priced once at its own rate: prompt tokens read from the cache at the cache-read rate, those
 * written to it at the cache-write rate, the rest of the prompt at the prompt rate; reasoning
 * tokens at the reasoning rate and the rest of the completion at the completion rate. The sum is
 * rounded up to a whole micro-USD, once, at the end, so that billable tokens never cost nothing.
 */
public final class CostCalculator {

  private CostCalculator() {}

  public static long costMicros(Usage usage, Pricing pricing) {
    long cached = Math.min(usage.cachedTokens(), usage.promptTokens());
    long written = Math.min(usage.cacheWriteTokens(), usage.promptTokens() - cached);
    long plainPrompt = usage.promptTokens() - cached - written;
    long reasoning = Math.min(usage.reasoningTokens(), usage.completionTokens());
    long plainCompletion = usage.completionTokens() - reasoning;
    long microsTimesMillion = sum(
        Math.multiplyExact(plainPrompt, pricing.promptPerMillion()),
        Math.multiplyExact(cached, pricing.cachedPromptPerMillion()),
        Math.multiplyExact(written, pricing.cacheWritePerMillion()),
        Math.multiplyExact(plainCompletion, pricing.completionPerMillion()),
        Math.multiplyExact(reasoning, pricing.reasoningPerMillion()));
    return (microsTimesMillion + 999_999) / 1_000_000;
  }

  private static long sum(long... parts) {
    long total = 0;
    for (long part : parts) {
      total = Math.addExact(total, part);
    }
    return total;
  }
}
