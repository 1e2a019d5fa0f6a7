package io.flopex.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.flopex.bus.AttemptOutcome;
import io.flopex.bus.ProviderFailure;
import io.flopex.bus.ProviderPreferences.HealthSort;
import io.flopex.bus.Route;
import io.flopex.bus.RoutePlan;
import io.flopex.config.Pricing;
import io.flopex.config.ProviderKind;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Endpoints ordered by what recent traffic measured. */
class EndpointStatsTest {

  private static final Route A = route("a");
  private static final Route B = route("b");
  private static final Route C = route("c");
  private static final RoutePlan PLAN = new RoutePlan("m", List.of(A, B, C), 4);

  private static Route route(String provider) {
    return new Route(provider, ProviderKind.OPENAI, "u", new Pricing(1, 1, 1), 1000, 1000, 1000);
  }

  private static AttemptOutcome ok(Route route, long latency, long ttfb, long tokens) {
    return new AttemptOutcome(route.provider(), route.upstreamModel(), null, 0, latency, ttfb,
        tokens);
  }

  @Test
  void latencyOrdersByTimeToFirstByteWithUnmeasuredEndpointsLast() {
    EndpointStats stats = new EndpointStats();
    stats.record(ok(B, 2_000, 100, 100));
    stats.record(ok(C, 900, 400, 100));

    assertThat(stats.sort(PLAN, HealthSort.LATENCY).routes()).containsExactly(B, C, A);
  }

  @Test
  void throughputOrdersByOutputTokensASecond() {
    EndpointStats stats = new EndpointStats();
    stats.record(ok(A, 1_100, 100, 100));
    stats.record(ok(B, 1_100, 100, 500));

    assertThat(stats.sort(PLAN, HealthSort.THROUGHPUT).routes()).containsExactly(B, A, C);
  }

  @Test
  void averagesMoveGraduallyAndFailuresDoNotCountAsSpeed() {
    EndpointStats stats = new EndpointStats();
    stats.record(ok(A, 1_000, 0, 0));
    stats.record(ok(A, 2_000, 0, 0));
    stats.record(new AttemptOutcome("a", "u",
        ProviderFailure.of(ProviderFailure.Kind.CONNECT), 0));

    EndpointStats.Stat stat = stats.stat(A);
    assertThat(stat.latencyMs).isEqualTo(1_000 + EndpointStats.ALPHA * 1_000);
    assertThat(stat.errorRate).isEqualTo(EndpointStats.ALPHA);
  }

  @Test
  void theClientsOwnMistakesDoNotCountAsTheEndpointFailing() {
    EndpointStats stats = new EndpointStats();
    stats.record(new AttemptOutcome("a", "u", new ProviderFailure(
        ProviderFailure.Kind.HTTP_STATUS, 400, 0, new JsonObject()), 0));
    stats.record(new AttemptOutcome("a", "u",
        ProviderFailure.of(ProviderFailure.Kind.CONTEXT_LENGTH), 0));

    assertThat(stats.errorRate(A)).isZero();
  }

  @Test
  void withoutASortThePlanIsUntouched() {
    assertThat(new EndpointStats().sort(PLAN, HealthSort.NONE)).isSameAs(PLAN);
  }
}
