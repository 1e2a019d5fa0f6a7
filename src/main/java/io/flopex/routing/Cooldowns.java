package io.flopex.routing;

import io.flopex.bus.AttemptOutcome;
import io.flopex.bus.ProviderFailure;
import io.flopex.bus.Route;
import io.flopex.bus.RoutePlan;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Endpoints resting after a provider said it is out of capacity: a 429, or a 503 or 529 that
 * named a time with {@code Retry-After} (or Gemini's {@code RetryInfo}). The rest lasts as long
 * as the provider asked, or {@code defaultMs} when it did not say; a later, shorter rest never
 * shortens an earlier one. Confined to the routing verticle's event loop.
 */
public final class Cooldowns {

  private final long defaultMs;
  private final Map<String, Long> until = new HashMap<>();

  public Cooldowns(long defaultMs) {
    this.defaultMs = defaultMs;
  }

  public void record(AttemptOutcome outcome) {
    ProviderFailure failure = outcome.failure();
    if (failure == null || failure.kind() != ProviderFailure.Kind.HTTP_STATUS) {
      return;
    }
    int status = failure.status();
    boolean capacity = status == 429
        || ((status == 503 || status == 529) && failure.retryAfterMs() > 0);
    if (!capacity) {
      return;
    }
    long rest = failure.retryAfterMs() > 0 ? failure.retryAfterMs() : defaultMs;
    until.merge(key(outcome.provider(), outcome.upstreamModel()),
        outcome.observedAtMillis() + rest, Math::max);
  }

  /** The plan without resting endpoints, noting when the first of those recovers. */
  public RoutePlan apply(RoutePlan plan, long nowMillis) {
    List<Route> ready = new ArrayList<>(plan.routes().size());
    long earliest = 0;
    for (Route route : plan.routes()) {
      Long rest = until.get(key(route.provider(), route.upstreamModel()));
      if (rest == null || rest <= nowMillis) {
        ready.add(route);
      } else {
        earliest = earliest == 0 ? rest : Math.min(earliest, rest);
      }
    }
    until.values().removeIf(t -> t <= nowMillis);
    return ready.size() == plan.routes().size() ? plan : plan.with(List.copyOf(ready), earliest);
  }

  private static String key(String provider, String upstreamModel) {
    return provider + '\u0000' + upstreamModel;
  }
}
