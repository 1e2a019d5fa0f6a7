package io.flopex.usage;

import io.flopex.bus.Usage;
import io.flopex.config.Pricing;

/**
 * The cost of one answer in micro-USD, from integer prices per million tokens. Each token is
 * priced once at its own rate: cached prompt tokens at the cached rate, the rest of the prompt at
 * the prompt rate, and completion tokens (reasoning included) at the completion rate. The sum is
 * rounded up to a whole micro-USD, once, at the end, so that billable tokens never cost nothing.
 */
public final class CostCalculator {

  private CostCalculator() {}

  public static long costMicros(Usage usage, Pricing pricing) {
    long cached = Math.min(usage.cachedTokens(), usage.promptTokens());
    long uncached = usage.promptTokens() - cached;
    long microsTimesMillion = Math.addExact(
        Math.addExact(
            Math.multiplyExact(uncached, pricing.promptPerMillion()),
            Math.multiplyExact(cached, pricing.cachedPromptPerMillion())),
        Math.multiplyExact(usage.completionTokens(), pricing.completionPerMillion()));
    return (microsTimesMillion + 999_999) / 1_000_000;
  }
}
