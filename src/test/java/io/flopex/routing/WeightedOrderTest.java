package io.flopex.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.flopex.bus.AttemptOutcome;
import io.flopex.bus.CapacityReport;
import io.flopex.bus.ProviderFailure;
import io.flopex.bus.ProviderPreferences.HealthSort;
import io.flopex.bus.Route;
import io.flopex.bus.RoutePlan;
import io.flopex.config.Pricing;
import io.flopex.config.ProviderKind;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The weighted strategy: how often each endpoint is tried first, over many seeded draws, given
 * its configured weight, its price and its recent error rate.
 */
class WeightedOrderTest {

  private static final int PLANS = 10_000;
  /** About four standard deviations of a share measured over {@link #PLANS} draws. */
  private static final double TOLERANCE = 0.02;

  private static Route route(String provider, double weight, long pricePerMillion) {
    return new Route(provider, ProviderKind.OPENAI, "u",
        new Pricing(pricePerMillion, 0, pricePerMillion), 1000, 1000, 1000, Set.of(), weight);
  }

  /** The share of plans each provider was first in. */
  private static Map<String, Double> firstShares(EndpointStats stats, List<Route> routes) {
    RoutePlan plan = new RoutePlan("m", routes, 4);
    Map<String, Double> shares = new HashMap<>();
    for (int i = 0; i < PLANS; i++) {
      RoutePlan drawn = stats.sort(plan, HealthSort.WEIGHTED);
      assertThat(drawn.routes()).containsExactlyInAnyOrderElementsOf(routes);
      shares.merge(drawn.routes().get(0).provider(), 1.0 / PLANS, Double::sum);
    }
    return shares;
  }

  private static EndpointStats seeded() {
    return new EndpointStats(new SplittableRandom(42));
  }

  @Test
  void eachEndpointIsFirstInProportionToItsWeight() {
    Map<String, Double> shares = firstShares(seeded(),
        List.of(route("a", 1, 1_000_000), route("b", 3, 1_000_000)));

    assertThat(shares.get("a")).isCloseTo(0.25, within(TOLERANCE));
    assertThat(shares.get("b")).isCloseTo(0.75, within(TOLERANCE));
  }

  @Test
  void theOthersFollowAsFallbacksDrawnByWeightAmongThemselves() {
    RoutePlan plan = new RoutePlan("m", List.of(route("a", 2, 1_000_000),
        route("b", 1, 1_000_000), route("c", 1, 1_000_000)), 4);
    EndpointStats stats = seeded();
    int bSecondAfterA = 0;
    int aFirst = 0;
    for (int i = 0; i < PLANS; i++) {
      List<Route> routes = stats.sort(plan, HealthSort.WEIGHTED).routes();
      if (routes.get(0).provider().equals("a")) {
        aFirst++;
        bSecondAfterA += routes.get(1).provider().equals("b") ? 1 : 0;
      }
    }

    assertThat(aFirst / (double) PLANS).isCloseTo(0.5, within(TOLERANCE));
    assertThat(bSecondAfterA / (double) aFirst).isCloseTo(0.5, within(2 * TOLERANCE));
  }

  @Test
  void aCheaperEndpointGetsMoreInProportionToItsPrice() {
    Map<String, Double> shares = firstShares(seeded(),
        List.of(route("pricey", 1, 3_000_000), route("cheap", 1, 1_000_000)));

    assertThat(shares.get("cheap")).isCloseTo(0.75, within(TOLERANCE));
  }

  @Test
  void weightAndPriceMultiply() {
    // pricey: 3 × 1/3 = 1; cheap: 1 × 1 = 1.
    Map<String, Double> shares = firstShares(seeded(),
        List.of(route("pricey", 3, 3_000_000), route("cheap", 1, 1_000_000)));

    assertThat(shares.get("pricey")).isCloseTo(0.5, within(TOLERANCE));
  }

  @Test
  void aFreeEndpointWeighsLikeOneAtTheFloorPrice() {
    long twiceTheFloor = 2 * WeightedOrder.PRICE_FLOOR;
    Map<String, Double> shares = firstShares(seeded(),
        List.of(route("free", 1, 0), route("paid", 1, twiceTheFloor)));

    assertThat(shares.get("free")).isCloseTo(2 / 3.0, within(TOLERANCE));
  }

  @Test
  void recentFailuresLowerAShareInProportion() {
    Route a = route("a", 1, 1_000_000);
    Route b = route("b", 1, 1_000_000);
    EndpointStats stats = seeded();
    stats.record(new AttemptOutcome("a", "u", null, 0, 100, 0, 10));
    stats.record(new AttemptOutcome("a", "u", ProviderFailure.of(ProviderFailure.Kind.CONNECT),
        0));
    double health = 1 - stats.errorRate(a);

    Map<String, Double> shares = firstShares(stats, List.of(a, b));

    assertThat(health).isCloseTo(1 - EndpointStats.ALPHA, within(1e-9));
    assertThat(shares.get("a")).isCloseTo(health / (health + 1), within(TOLERANCE));
  }

  @Test
  void anEndpointThatOnlyFailsKeepsATrickleOfFirstAttempts() {
    Route a = route("a", 1, 1_000_000);
    EndpointStats stats = seeded();
    for (int i = 0; i < 100; i++) {
      stats.record(new AttemptOutcome("a", "u",
          ProviderFailure.of(ProviderFailure.Kind.CONNECT), 0));
    }

    Map<String, Double> shares = firstShares(stats, List.of(a, route("b", 1, 1_000_000)));

    double floor = WeightedOrder.HEALTH_FLOOR;
    assertThat(shares.get("a")).isCloseTo(floor / (floor + 1), within(TOLERANCE));
  }

  @Test
  void aLowBudgetMultipliesTheDrawnShareByWhatIsLeftOfIt() {
    // As the routing verticle does: draw first, then let capacity move low endpoints back.
    Route a = route("a", 1, 1_000_000);
    Route b = route("b", 1, 1_000_000);
    RoutePlan plan = new RoutePlan("m", List.of(a, b), 4);
    EndpointStats stats = seeded();
    Cooldowns cooldowns = new Cooldowns(60_000, new SplittableRandom(43));
    cooldowns.record(new CapacityReport("a", "u", 0.05, 60_000));
    int aFirst = 0;
    for (int i = 0; i < PLANS; i++) {
      aFirst += cooldowns.apply(stats.sort(plan, HealthSort.WEIGHTED), 0).routes().get(0) == a
          ? 1 : 0;
    }

    assertThat(aFirst / (double) PLANS).isCloseTo(0.5 * 0.05 / Cooldowns.LOW_CAPACITY,
        within(TOLERANCE));
  }

  @Test
  void endpointsOfWeightZeroComeLastInTheirConfiguredOrder() {
    RoutePlan plan = new RoutePlan("m", List.of(route("z1", 0, 1), route("a", 1, 1),
        route("z2", 0, 1), route("b", 1, 1)), 4);
    EndpointStats stats = seeded();

    for (int i = 0; i < 100; i++) {
      assertThat(stats.sort(plan, HealthSort.WEIGHTED).routes().subList(2, 4))
          .extracting(Route::provider).containsExactly("z1", "z2");
    }
  }

  @Test
  void theSameSeedDrawsTheSameOrders() {
    RoutePlan plan = new RoutePlan("m", List.of(route("a", 1, 1), route("b", 1, 1),
        route("c", 1, 1)), 4);
    EndpointStats one = seeded();
    EndpointStats two = seeded();

    for (int i = 0; i < 100; i++) {
      assertThat(one.sort(plan, HealthSort.WEIGHTED)).isEqualTo(two.sort(plan,
          HealthSort.WEIGHTED));
    }
  }
}
