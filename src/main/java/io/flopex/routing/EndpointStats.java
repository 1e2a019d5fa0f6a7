package io.flopex.routing;

import io.flopex.bus.AttemptOutcome;
import io.flopex.bus.ProviderFailure;
import io.flopex.bus.ProviderPreferences.HealthSort;
import io.flopex.bus.Route;
import io.flopex.bus.RoutePlan;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * Moving averages of each endpoint's recent traffic: latency, time to first byte, output tokens
 * a second, and the share of attempts that failed. Each new observation weighs {@link #ALPHA}.
 * An attempt the provider refused as the client's own mistake, or as too long for the model's
 * window, says nothing about the endpoint's health and is not counted as a failure. Confined to
 * the routing verticle's event loop.
 */
public final class EndpointStats {

  static final double ALPHA = 0.2;

  private final RandomGenerator random;

  public EndpointStats() {
    this(new SplittableRandom());
  }

  /** With the randomness the {@code weighted} order is drawn from. */
  public EndpointStats(RandomGenerator random) {
    this.random = random;
  }

  /** One endpoint's averages; a negative value was never measured. */
  static final class Stat {
    double latencyMs = -1;
    double ttfbMs = -1;
    double tokensPerSecond = -1;
    double errorRate;
  }

  private final Map<String, Stat> stats = new HashMap<>();

  public void record(AttemptOutcome outcome) {
    Stat stat = stats.computeIfAbsent(outcome.provider() + '\u0000' + outcome.upstreamModel(),
        k -> new Stat());
    ProviderFailure failure = outcome.failure();
    if (failure != null
        && (!FailoverPolicy.movesOn(failure) || FailoverPolicy.needsLargerWindow(failure))) {
      return;
    }
    stat.errorRate = average(stat.errorRate, failure == null ? 0 : 1);
    if (failure != null || outcome.latencyMs() <= 0) {
      return;
    }
    stat.latencyMs = average(stat.latencyMs, outcome.latencyMs());
    if (outcome.ttfbMs() > 0) {
      stat.ttfbMs = average(stat.ttfbMs, outcome.ttfbMs());
    }
    long generating = outcome.latencyMs() - Math.max(0, outcome.ttfbMs());
    if (outcome.outputTokens() > 0 && generating > 0) {
      stat.tokensPerSecond = average(stat.tokensPerSecond,
          outcome.outputTokens() * 1000.0 / generating);
    }
  }

  private static double average(double current, double sample) {
    return current < 0 ? sample : current + ALPHA * (sample - current);
  }

  /** The endpoint's averages as JSON; measures never taken are left out. */
  public io.vertx.core.json.JsonObject describe(String provider, String upstreamModel) {
    io.vertx.core.json.JsonObject json = new io.vertx.core.json.JsonObject();
    Stat s = stats.get(provider + '\u0000' + upstreamModel);
    if (s != null) {
      json.put("errorRate", Math.round(s.errorRate * 1000) / 1000.0);
      if (s.latencyMs >= 0) {
        json.put("latencyMs", Math.round(s.latencyMs));
      }
      if (s.ttfbMs >= 0) {
        json.put("timeToFirstByteMs", Math.round(s.ttfbMs));
      }
      if (s.tokensPerSecond >= 0) {
        json.put("tokensPerSecond", Math.round(s.tokensPerSecond * 10) / 10.0);
      }
    }
    return json;
  }

  Stat stat(Route route) {
    return stats.get(route.provider() + '\u0000' + route.upstreamModel());
  }

  /** The recent share of an endpoint's attempts that failed; 0 before any was made. */
  double errorRate(Route route) {
    Stat s = stat(route);
    return s == null ? 0 : s.errorRate;
  }

  /**
   * The plan ordered by the measure the request asked for; endpoints never measured keep their
   * order after those that were. {@link HealthSort#WEIGHTED} draws a new order each time (see
   * {@link WeightedOrder}).
   */
  public RoutePlan sort(RoutePlan plan, HealthSort sort) {
    if (sort == HealthSort.NONE || plan.routes().size() < 2) {
      return plan;
    }
    if (sort == HealthSort.WEIGHTED) {
      return plan.with(List.copyOf(WeightedOrder.draw(plan.routes(), this::errorRate, random)),
          plan.coolingUntilMillis());
    }
    List<Route> routes = new ArrayList<>(plan.routes());
    Comparator<Route> order = Comparator.comparingDouble(route -> {
      Stat s = stat(route);
      double value = s == null ? -1 : sort == HealthSort.LATENCY
          ? (s.ttfbMs >= 0 ? s.ttfbMs : s.latencyMs) : s.tokensPerSecond;
      if (value < 0) {
        return Double.MAX_VALUE;
      }
      return sort == HealthSort.LATENCY ? value : -value;
    });
    routes.sort(order);
    return plan.with(List.copyOf(routes), plan.coolingUntilMillis());
  }
}
