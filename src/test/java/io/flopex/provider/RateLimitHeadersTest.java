package io.flopex.provider;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.MultiMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The rate-limit budgets providers report in their response headers. */
class RateLimitHeadersTest {

  private static final long NOW = 1_000_000;

  @ParameterizedTest
  @CsvSource({"1s, 1000", "6m0s, 360000", "20ms, 20", "1h2m3.5s, 3723500", "0.5s, 500"})
  void openAiResetDurations(String value, long millis) {
    assertThat(RateLimitHeaders.duration(value, NOW)).isEqualTo(NOW + millis);
  }

  @Test
  void theTighterOfRequestsAndTokensCounts() {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap()
        .add("x-ratelimit-limit-requests", "100").add("x-ratelimit-remaining-requests", "50")
        .add("x-ratelimit-reset-requests", "30s")
        .add("x-ratelimit-limit-tokens", "10000").add("x-ratelimit-remaining-tokens", "100")
        .add("x-ratelimit-reset-tokens", "2s");

    RateLimitHeaders.Budget budget = RateLimitHeaders.read(headers, NOW);

    assertThat(budget.fractionLeft()).isEqualTo(0.01);
    assertThat(budget.resetAtMillis()).isEqualTo(NOW + 2_000);
  }

  @Test
  void anthropicBudgetsResetAtATimestamp() {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap()
        .add("anthropic-ratelimit-requests-limit", "50")
        .add("anthropic-ratelimit-requests-remaining", "0")
        .add("anthropic-ratelimit-requests-reset", "2026-12-03T18:00:30Z");

    RateLimitHeaders.Budget budget = RateLimitHeaders.read(headers, NOW);

    assertThat(budget.fractionLeft()).isZero();
    assertThat(budget.resetAtMillis())
        .isEqualTo(java.time.Instant.parse("2026-12-03T18:00:30Z").toEpochMilli());
  }

  @Test
  void noOrUnreadableHeadersMeanNoBudget() {
    assertThat(RateLimitHeaders.read(MultiMap.caseInsensitiveMultiMap(), NOW)).isNull();
    assertThat(RateLimitHeaders.read(MultiMap.caseInsensitiveMultiMap()
        .add("x-ratelimit-limit-requests", "lots")
        .add("x-ratelimit-remaining-requests", "1"), NOW)).isNull();
  }
}
