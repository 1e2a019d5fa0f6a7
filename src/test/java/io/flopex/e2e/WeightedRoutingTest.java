package io.flopex.e2e;

import static io.flopex.testing.FakeUpstream.fixture;
import static io.flopex.testing.FakeUpstream.json;
import static org.assertj.core.api.Assertions.assertThat;

import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.Sync;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A model with the weighted strategy spreads first attempts over its endpoints by weight. */
class WeightedRoutingTest {

  private static Vertx vertx;
  private static FakeUpstream a;
  private static FakeUpstream b;
  private static Gateway gateway;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    a = FakeUpstream.start(vertx).always(json(200, fixture("openai/openai-text.json")));
    b = FakeUpstream.start(vertx).always(json(200, fixture("openai/openai-text.json")));
    gateway = Gateway.builder(vertx)
        .provider("a", a.baseUrl())
        .provider("b", b.baseUrl())
        .model("spread", "a", "b")
        .strategy("spread", "weighted")
        .endpoint("spread", "a", "weight", 3)
        .model("backup", "a", "b")
        .strategy("backup", "weighted")
        .endpoint("backup", "a", "weight", 0)
        .start();
  }

  @AfterAll
  static void stop() {
    gateway.close();
    a.close();
    b.close();
    Sync.await(vertx.close());
  }

  private static String servedBy(String model) {
    return gateway.post("/v1/chat/completions", "{\"model\":\"" + model + "\",\"messages\":"
            + "[{\"role\":\"user\",\"content\":\"hello\"}]}")
        .headers().firstValue("x-flopex-provider").orElseThrow();
  }

  @Test
  void firstAttemptsAreSharedInProportionToWeight() {
    int requests = 200;
    int servedByA = 0;
    for (int i = 0; i < requests; i++) {
      servedByA += servedBy("spread").equals("a") ? 1 : 0;
    }

    // Weights 3 and 1: a serves three quarters; the bounds are over six standard deviations.
    assertThat(servedByA).isBetween(110, 190);
  }

  @Test
  void anEndpointOfWeightZeroIsOnlyAFallback() {
    int aCalls = a.calls();

    for (int i = 0; i < 20; i++) {
      assertThat(servedBy("backup")).isEqualTo("b");
    }
    assertThat(a.calls()).isEqualTo(aCalls);
  }
}
