package io.flopex.usage;

import io.flopex.bus.Usage;
import io.flopex.config.Pricing;
import java.math.BigInteger;

/**
 * The cost of one answer in micro-USD, from integer prices per million tokens. Each token is
 * priced once at its own rate: prompt tokens read from the cache at the cache-read rate, those
 * written to it at the cache-write rate, the rest of the prompt at the prompt rate; reasoning
 * tokens at the reasoning rate and the rest of the completion at the completion rate. The sum is
 * rounded up to a whole micro-USD, once, at the end, so that billable tokens never cost nothing.
 */
public final class CostCalculator {

  private static final BigInteger MILLION = BigInteger.valueOf(1_000_000);
  private static final BigInteger ROUND_UP = BigInteger.valueOf(999_999);

  private CostCalculator() {}

  public static long costMicros(Usage usage, Pricing pricing) {
    long cached = Math.min(usage.cachedTokens(), usage.promptTokens());
    long written = Math.min(usage.cacheWriteTokens(), usage.promptTokens() - cached);
    long plainPrompt = usage.promptTokens() - cached - written;
    long reasoning = Math.min(usage.reasoningTokens(), usage.completionTokens());
    long plainCompletion = usage.completionTokens() - reasoning;
    // Counts come from upstream: exact arithmetic that cannot overflow, whatever they claim.
    BigInteger microsTimesMillion = product(plainPrompt, pricing.promptPerMillion())
        .add(product(cached, pricing.cachedPromptPerMillion()))
        .add(product(written, pricing.cacheWritePerMillion()))
        .add(product(plainCompletion, pricing.completionPerMillion()))
        .add(product(reasoning, pricing.reasoningPerMillion()));
    BigInteger micros = microsTimesMillion.add(ROUND_UP).divide(MILLION);
    return micros.bitLength() < 64 ? micros.longValue() : Long.MAX_VALUE;
  }

  private static BigInteger product(long tokens, long pricePerMillion) {
    return BigInteger.valueOf(tokens).multiply(BigInteger.valueOf(pricePerMillion));
  }
}
