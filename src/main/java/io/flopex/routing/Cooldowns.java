package io.flopex.routing;

import io.flopex.bus.AttemptOutcome;
import io.flopex.bus.CapacityReport;
import io.flopex.bus.ProviderFailure;
import io.flopex.bus.Route;
import io.flopex.bus.RoutePlan;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * Endpoints resting after a provider said it is out of capacity: a 429, or a 503 or 529 that
 * named a time with {@code Retry-After} (or Gemini's {@code RetryInfo}). The rest lasts as long
 * as the provider asked, or {@code defaultMs} when it did not say; a later, shorter rest never
 * shortens an earlier one.
 *
 * <p>Endpoints running low on the budget their provider reports give up first attempts
 * gradually rather than all at once: below {@link #LOW_CAPACITY} of its budget left, an endpoint
 * keeps its place in a plan with probability {@code fractionLeft / LOW_CAPACITY}, and otherwise
 * moves after the others, so its share of first attempts falls in step with its budget; with
 * nothing left it rests until the budget resets. Confined to the routing verticle's event loop.
 */
public final class Cooldowns {

  /**
   * Below this fraction of its budget left, an endpoint's share of first attempts shrinks in
   * proportion: a quarter leaves room to spread traffic before the provider starts refusing it.
   */
  static final double LOW_CAPACITY = 0.25;

  private final long defaultMs;
  private final RandomGenerator random;
  private final Map<String, Long> until = new HashMap<>();
  private final Map<String, CapacityReport> capacity = new HashMap<>();

  public Cooldowns(long defaultMs) {
    this(defaultMs, new SplittableRandom());
  }

  /** With the randomness that decides which low endpoints keep their place. */
  public Cooldowns(long defaultMs, RandomGenerator random) {
    this.defaultMs = defaultMs;
    this.random = random;
  }

  /**
   * Notes an attempt's outcome.
   *
   * @return when the endpoint now rests until, if this outcome made it rest or rest longer;
   *     0 otherwise
   */
  public long record(AttemptOutcome outcome) {
    ProviderFailure failure = outcome.failure();
    if (failure == null || failure.kind() != ProviderFailure.Kind.HTTP_STATUS) {
      return 0;
    }
    int status = failure.status();
    boolean capacity = status == 429
        || ((status == 503 || status == 529) && failure.retryAfterMs() > 0);
    if (!capacity) {
      return 0;
    }
    long rest = failure.retryAfterMs() > 0 ? failure.retryAfterMs() : defaultMs;
    long end = outcome.observedAtMillis() + rest;
    return rest(outcome.provider(), outcome.upstreamModel(), end) ? end : 0;
  }

  /**
   * Makes an endpoint rest until the given time, unless it already rests longer.
   *
   * @return whether the rest began or grew longer
   */
  public boolean rest(String provider, String upstreamModel, long untilMillis) {
    String key = key(provider, upstreamModel);
    Long before = until.get(key);
    if (before != null && before >= untilMillis) {
      return false;
    }
    until.put(key, untilMillis);
    return true;
  }

  /** An endpoint resting until a time. */
  public record Rest(String provider, String upstreamModel, long untilMillis) {}

  /** Every endpoint resting now, for a node that joins the cluster later. */
  public List<Rest> rests(long nowMillis) {
    List<Rest> rests = new ArrayList<>();
    until.forEach((key, end) -> {
      if (end > nowMillis) {
        int split = key.indexOf('\u0000');
        rests.add(new Rest(key.substring(0, split), key.substring(split + 1), end));
      }
    });
    return rests;
  }

  /** When the endpoint's rest ends, or 0 when it is not resting. */
  public long restsUntil(String provider, String upstreamModel, long nowMillis) {
    Long end = until.get(key(provider, upstreamModel));
    return end != null && end > nowMillis ? end : 0;
  }

  /** The endpoint's last reported budget still in force, or null. */
  public CapacityReport budget(String provider, String upstreamModel, long nowMillis) {
    CapacityReport report = capacity.get(key(provider, upstreamModel));
    return report != null && report.resetAtMillis() > nowMillis ? report : null;
  }

  /** Every budget report still in force, for a node that joins the cluster later. */
  public List<CapacityReport> capacities(long nowMillis) {
    List<CapacityReport> reports = new ArrayList<>();
    capacity.values().forEach(report -> {
      if (report.resetAtMillis() > nowMillis) {
        reports.add(report);
      }
    });
    return reports;
  }

  /**
   * Notes the budget a provider reported. An endpoint with nothing left rests until the budget
   * resets, before it ever answers 429.
   */
  public void record(CapacityReport report) {
    String key = key(report.provider(), report.upstreamModel());
    capacity.put(key, report);
    if (report.fractionLeft() <= 0 && report.resetAtMillis() > 0) {
      until.merge(key, report.resetAtMillis(), Math::max);
    }
  }

  /**
   * The plan without resting endpoints, noting when the first of those recovers, and with
   * endpoints low on budget moved after the others in proportion to how little they have left, so
   * that 429s stay the exception. Applied after any measured or drawn order, which would
   * otherwise undo it.
   */
  public RoutePlan apply(RoutePlan plan, long nowMillis) {
    List<Route> ready = new ArrayList<>(plan.routes().size());
    List<Route> low = new ArrayList<>();
    long earliest = 0;
    for (Route route : plan.routes()) {
      String key = key(route.provider(), route.upstreamModel());
      Long rest = until.get(key);
      CapacityReport budget = capacity.get(key);
      if (rest != null && rest > nowMillis) {
        earliest = earliest == 0 ? rest : Math.min(earliest, rest);
      } else if (budget != null && budget.fractionLeft() < LOW_CAPACITY
          && budget.resetAtMillis() > nowMillis
          && random.nextDouble() >= budget.fractionLeft() / LOW_CAPACITY) {
        low.add(route);
      } else {
        ready.add(route);
      }
    }
    ready.addAll(low);
    until.values().removeIf(t -> t <= nowMillis);
    capacity.values().removeIf(c -> c.resetAtMillis() <= nowMillis);
    return ready.equals(plan.routes()) ? plan : plan.with(List.copyOf(ready), earliest);
  }

  private static String key(String provider, String upstreamModel) {
    return provider + '\u0000' + upstreamModel;
  }
}
