package io.flopex.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.flopex.bus.HealthFact;
import io.flopex.bus.CapacityReport;
import io.flopex.bus.ProviderFailure;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/** Which failures count against an endpoint, and the JSON shape of health facts. */
class BreakersTest {

  @Test
  void theEndpointsOwnFailuresCount() {
    assertThat(Breakers.counts(ProviderFailure.of(ProviderFailure.Kind.CONNECT))).isTrue();
    assertThat(Breakers.counts(ProviderFailure.of(ProviderFailure.Kind.FIRST_BYTE_TIMEOUT)))
        .isTrue();
    assertThat(Breakers.counts(ProviderFailure.of(ProviderFailure.Kind.PROTOCOL))).isTrue();
    for (int status : new int[] {429, 500, 502, 503, 529, 401, 403}) {
      assertThat(Breakers.counts(new ProviderFailure(ProviderFailure.Kind.HTTP_STATUS, status, 0,
          null))).as("HTTP %d", status).isTrue();
    }
  }

  @Test
  void theClientsMistakesTooLongPromptsAndCancelledCallsDoNot() {
    assertThat(Breakers.counts(new ProviderFailure(ProviderFailure.Kind.HTTP_STATUS, 400, 0,
        new JsonObject().put("message", "bad")))).isFalse();
    assertThat(Breakers.counts(ProviderFailure.of(ProviderFailure.Kind.CONTEXT_LENGTH)))
        .isFalse();
    assertThat(Breakers.counts(ProviderFailure.of(ProviderFailure.Kind.CANCELLED))).isFalse();
  }

  @Test
  void healthFactsSurviveTheirJsonForm() {
    HealthFact cooldown = HealthFact.cooldown("n1", "groq", "llama", 1_000_000L, 999L);
    HealthFact capacity = HealthFact.capacity("n1",
        new CapacityReport("groq", "llama", 0.05, 2_000_000L), 999L);
    HealthFact circuit = HealthFact.circuit("n1", "groq", "llama", "open", 999L);
    for (HealthFact fact : new HealthFact[] {cooldown, capacity, circuit}) {
      assertThat(HealthFact.fromJson(new JsonObject(fact.toJson().encode()))).isEqualTo(fact);
    }
    assertThat(cooldown.toJson().fieldNames()).containsExactlyInAnyOrder("node", "kind",
        "provider", "upstreamModel", "observedAt", "until");
  }

  @Test
  void aTrialPassedOverOrAbandonedGoesToTheNextRequestAndOnlyAVerdictEndsIt() {
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try {
      java.util.List<String> changes = new java.util.concurrent.CopyOnWriteArrayList<>();
      Breakers breakers = new Breakers(vertx, new io.flopex.config.FlopexConfig.Breaker(1, 10_000,
          100), (e, state, local) -> changes.add(state.name()));
      io.flopex.bus.Route route = new io.flopex.bus.Route("p", io.flopex.config.ProviderKind.OPENAI,
          "m", new io.flopex.config.Pricing(1, 1, 1), 60_000, 1_000, 1_000);
      io.flopex.bus.Route other = new io.flopex.bus.Route("q", io.flopex.config.ProviderKind.OPENAI,
          "m", new io.flopex.config.Pricing(1, 1, 1), 60_000, 1_000, 1_000);
      io.flopex.bus.RoutePlan plan = new io.flopex.bus.RoutePlan("m", java.util.List.of(other,
          route), 4);
      java.util.concurrent.atomic.AtomicReference<io.flopex.bus.RoutePlan> seen =
          new java.util.concurrent.atomic.AtomicReference<>();
      Runnable onLoop = () -> breakers.record(new io.flopex.bus.AttemptOutcome("p", "m",
          new ProviderFailure(ProviderFailure.Kind.HTTP_STATUS, 500, 0, null), 0));
      vertx.runOnContext(v -> onLoop.run());
      org.awaitility.Awaitility.await().until(() -> changes.contains("HALF_OPEN"));

      java.util.function.Supplier<io.flopex.bus.RoutePlan> plan1 = () -> {
        java.util.concurrent.CompletableFuture<io.flopex.bus.RoutePlan> f =
            new java.util.concurrent.CompletableFuture<>();
        vertx.runOnContext(v -> f.complete(breakers.apply(plan)));
        return f.join();
      };
      assertThat(plan1.get().routes()).containsExactly(route, other);
      assertThat(plan1.get().routes()).containsExactly(other);
      vertx.runOnContext(v -> breakers.record(new io.flopex.bus.AttemptOutcome("p", "m",
          ProviderFailure.of(ProviderFailure.Kind.NOT_ATTEMPTED), 0)));
      assertThat(plan1.get().routes()).containsExactly(route, other);
      vertx.runOnContext(v -> breakers.record(new io.flopex.bus.AttemptOutcome("p", "m",
          ProviderFailure.of(ProviderFailure.Kind.CANCELLED), 0)));
      assertThat(plan1.get().routes()).containsExactly(route, other);
      vertx.runOnContext(v -> breakers.record(new io.flopex.bus.AttemptOutcome("p", "m", null, 0,
          0, 0, 0, true)));
      org.awaitility.Awaitility.await().until(() -> changes.contains("CLOSED"));
      assertThat(plan1.get().routes()).containsExactly(other, route);
    } finally {
      vertx.close();
    }
  }
}
