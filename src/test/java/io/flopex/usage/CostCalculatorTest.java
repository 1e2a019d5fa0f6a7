package io.flopex.usage;

import static org.assertj.core.api.Assertions.assertThat;

import io.flopex.bus.Usage;
import io.flopex.config.Pricing;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CostCalculatorTest {

  private static final Pricing GPT_41_NANO = new Pricing(100_000, 400_000, 25_000);

  private static Usage usage(long prompt, long completion, long cached) {
    return new Usage(prompt, completion, cached, 0, false);
  }

  @Test
  void zeroTokensCostNothing() {
    assertThat(CostCalculator.costMicros(Usage.NONE, GPT_41_NANO)).isZero();
  }

  @Test
  void freeEndpointCostsNothing() {
    Pricing free = new Pricing(0, 0, 0);

    assertThat(CostCalculator.costMicros(usage(1_000_000, 1_000_000, 500_000), free)).isZero();
  }

  @Test
  void millionPromptTokensCostThePromptPrice() {
    Pricing llama = new Pricing(590_000, 790_000, 590_000);

    assertThat(CostCalculator.costMicros(usage(1_000_000, 0, 0), llama)).isEqualTo(590_000);
  }

  @Test
  void millionCompletionTokensCostTheCompletionPrice() {
    Pricing llama = new Pricing(590_000, 790_000, 590_000);

    assertThat(CostCalculator.costMicros(usage(0, 1_000_000, 0), llama)).isEqualTo(790_000);
  }

  @Test
  void promptAndCompletionAreAdded() {
    Pricing pricing = new Pricing(2_000_000, 8_000_000, 2_000_000);

    assertThat(CostCalculator.costMicros(usage(1_000, 500, 0), pricing))
        .isEqualTo(1_000 * 2 + 500 * 8);
  }

  @Test
  void cachedPromptTokensUseTheCachedRateAndTheRestThePromptRate() {
    Pricing pricing = new Pricing(3_000_000, 15_000_000, 300_000);

    long cost = CostCalculator.costMicros(usage(10_000, 0, 8_000), pricing);

    assertThat(cost).isEqualTo(2_000 * 3 + 8_000 * 3 / 10);
  }

  @Test
  void eachTokenIsPricedOnce() {
    Pricing pricing = new Pricing(1_000_000, 10_000_000, 100_000);

    long allCached = CostCalculator.costMicros(usage(1_000, 0, 1_000), pricing);
    long noneCached = CostCalculator.costMicros(usage(1_000, 0, 0), pricing);

    assertThat(allCached).isEqualTo(100);
    assertThat(noneCached).isEqualTo(1_000);
  }

  @Test
  void openAiUsageWithCachedTokensIsPricedPerRate() {
    long cost = CostCalculator.costMicros(usage(2_000, 100, 1_500), GPT_41_NANO);

    assertThat(cost).isEqualTo(128);
  }

  @Test
  void cachedTokensAboveThePromptAreCappedAtThePrompt() {
    Pricing pricing = new Pricing(1_000_000, 0, 100_000);

    assertThat(CostCalculator.costMicros(usage(1_000, 0, 5_000), pricing)).isEqualTo(100);
  }

  @Test
  void reasoningTokensArePricedOnlyAsPartOfTheCompletion() {
    Pricing pricing = new Pricing(1_000_000, 4_000_000, 1_000_000);
    Usage withReasoning = new Usage(20, 533, 0, 382, false);

    assertThat(CostCalculator.costMicros(withReasoning, pricing))
        .isEqualTo(CostCalculator.costMicros(usage(20, 533, 0), pricing));
  }

  @Test
  void estimatedUsageIsPricedLikeReportedUsage() {
    Usage estimated = new Usage(2_000, 100, 1_500, 0, true);

    assertThat(CostCalculator.costMicros(estimated, GPT_41_NANO)).isEqualTo(128);
  }

  @ParameterizedTest(name = "{0} prompt tokens at {1} per million cost {2}")
  @CsvSource({
      "1, 1, 1",
      "1, 499999, 1",
      "1, 500000, 1",
      "1, 1000000, 1",
      "1, 1000001, 2",
      "1, 1499999, 2",
      "1, 2500000, 3",
      "5, 100000, 1",
      "3, 500000, 2",
      "7, 590000, 5"})
  void resultIsRoundedUpToAWholeMicroDollar(long tokens, long pricePerMillion, long expected) {
    Pricing pricing = new Pricing(pricePerMillion, 0, pricePerMillion);

    assertThat(CostCalculator.costMicros(usage(tokens, 0, 0), pricing)).isEqualTo(expected);
  }

  @Test
  void roundingHappensOnceAfterSummingSmallParts() {
    Pricing pricing = new Pricing(400_000, 400_000, 400_000);

    assertThat(CostCalculator.costMicros(usage(2, 1, 1), pricing)).isEqualTo(2);
  }

  @Test
  void halvesOfSeparatePartsAddUpBeforeRounding() {
    Pricing pricing = new Pricing(500_000, 500_000, 500_000);

    assertThat(CostCalculator.costMicros(usage(1, 1, 0), pricing)).isEqualTo(1);
  }

  @Test
  void fractionsOfAllThreeRatesAddUpBeforeRounding() {
    Pricing pricing = new Pricing(300_000, 300_000, 200_000);

    assertThat(CostCalculator.costMicros(usage(2, 1, 1), pricing)).isEqualTo(1);
  }

  @Test
  void largeUsageStaysExact() {
    Pricing pricing = new Pricing(75_000_000, 150_000_000, 7_500_000);

    long cost = CostCalculator.costMicros(usage(2_000_000_000L, 1_000_000_000L, 0), pricing);

    assertThat(cost).isEqualTo(2_000L * 75_000_000 + 1_000L * 150_000_000);
  }
}
