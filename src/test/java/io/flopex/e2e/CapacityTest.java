package io.flopex.e2e;

import static io.flopex.testing.FakeUpstream.fixture;
import static io.flopex.testing.FakeUpstream.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flopex.testing.Chunks;
import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.Sync;
import io.vertx.core.Vertx;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Capacity is learned from rate-limit headers before it runs out. */
class CapacityTest {

  private Vertx vertx;
  private FakeUpstream a;
  private FakeUpstream b;
  private Gateway gateway;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    a = FakeUpstream.start(vertx);
    b = FakeUpstream.start(vertx).always(json(200, fixture("openai/openai-text.json")));
    gateway = Gateway.builder(vertx)
        .provider("a", a.baseUrl())
        .provider("b", b.baseUrl())
        .model("m", "a", "b")
        .start();
  }

  @AfterEach
  void stop() {
    gateway.close();
    a.close();
    b.close();
    Sync.await(vertx.close());
  }

  private String servedBy() {
    return gateway.post("/v1/chat/completions", Chunks.request(false, ""))
        .headers().firstValue("x-flopex-provider").orElseThrow();
  }

  @Test
  void anEndpointWithNoBudgetLeftRestsBeforeItAnswers429() {
    a.then(json(200, fixture("openai/openai-text.json"),
        "x-ratelimit-limit-requests", "100", "x-ratelimit-remaining-requests", "0",
        "x-ratelimit-reset-requests", "30s"));
    assertThat(servedBy()).isEqualTo("a");

    // The report reaches the routing verticle asynchronously, right after the answer.
    await().atMost(Duration.ofSeconds(5)).until(() -> servedBy().equals("b"));
    assertThat(a.calls()).isEqualTo(1);
  }

  @Test
  void anEndpointNearlyOutOfBudgetServesFewerFirstAttempts() {
    a.always(json(200, fixture("openai/openai-text.json"),
        "x-ratelimit-limit-tokens", "100000", "x-ratelimit-remaining-tokens", "2000",
        "x-ratelimit-reset-tokens", "1m0s"));
    assertThat(servedBy()).isEqualTo("a");
    await().atMost(Duration.ofSeconds(5)).until(() -> servedBy().equals("b"));

    // Once a nearly empty endpoint always moved last; now, with 2% left against a threshold
    // of 25%, it keeps first place in about 8% of requests, so it is counted over many. Even
    // 20 of 60 would be over seven standard deviations away.
    int aCalls = a.calls();
    for (int i = 0; i < 60; i++) {
      servedBy();
    }
    assertThat(a.calls() - aCalls).isLessThan(20);
  }

  @Test
  void anEndpointWithAmpleBudgetKeepsItsPlace() {
    a.always(json(200, fixture("openai/openai-text.json"),
        "x-ratelimit-limit-tokens", "100000", "x-ratelimit-remaining-tokens", "30000",
        "x-ratelimit-reset-tokens", "1m0s"));

    for (int i = 0; i < 20; i++) {
      assertThat(servedBy()).isEqualTo("a");
    }
    assertThat(b.calls()).isZero();
  }
}
