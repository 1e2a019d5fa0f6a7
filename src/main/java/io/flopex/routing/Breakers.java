package io.flopex.routing;

import io.flopex.bus.AttemptOutcome;
import io.flopex.bus.ProviderFailure;
import io.flopex.bus.Route;
import io.flopex.bus.RoutePlan;
import io.flopex.config.FlopexConfig;
import io.vertx.circuitbreaker.CircuitBreaker;
import io.vertx.circuitbreaker.CircuitBreakerOptions;
import io.vertx.circuitbreaker.CircuitBreakerState;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A Vert.x circuit breaker per endpoint (provider and upstream model).
 *
 * <p>Each attempt's outcome runs through the endpoint's breaker. Connection failures, timeouts,
 * 429, 5xx, a provider's refusal of its own key and malformed answers count as failures; the
 * client's own mistakes, prompts too long for the window and cancelled calls do not, and an
 * answer of any of those kinds resets the count like a success. After {@code failures} failures
 * in a row the circuit opens and the endpoint leaves every plan. After {@code resetMs} it
 * half-opens: the next request that may use the endpoint tries it first, as a trial on real
 * traffic, while other requests still go around it; the trial's outcome closes the circuit or
 * opens it again.
 *
 * <p>Confined to the routing verticle's event loop.
 */
public final class Breakers {

  /** A breaker changed state; {@code local} is false when another node's news changed it. */
  @FunctionalInterface
  public interface Listener {
    void changed(Endpoint endpoint, CircuitBreakerState state, boolean local);
  }

  /** An endpoint, as breakers, cooldowns and cluster facts name it. */
  public record Endpoint(String provider, String upstreamModel) {

    static Endpoint of(Route route) {
      return new Endpoint(route.provider(), route.upstreamModel());
    }
  }

  private static final RuntimeException COUNTED = new RuntimeException("endpoint failure", null,
      false, false) {};
  private static final RuntimeException NOT_COUNTED = new RuntimeException("not the endpoint's"
      + " fault", null, false, false) {};

  private static final long TRIAL_GRACE_MS = 5_000;

  private final Vertx vertx;
  private final FlopexConfig.Breaker config;
  private final Listener listener;
  private final java.util.function.LongSupplier clock;
  private final Map<Endpoint, CircuitBreaker> breakers = new HashMap<>();
  private final Map<Endpoint, Long> openUntil = new HashMap<>();
  /** A half-open endpoint's trial, from the first plan that may use it until its verdict. */
  private final Map<Endpoint, Trial> trials = new HashMap<>();
  private boolean applyingNews;

  /**
   * One trial of a half-open endpoint. It is run by the breaker once; a request is assigned to
   * it, and when that request passes the endpoint over or is abandoned, the next request is.
   */
  private static final class Trial {
    final Promise<Void> verdict = Promise.promise();
    boolean assigned;
    boolean decided;
    long timer = -1;
  }

  public Breakers(Vertx vertx, FlopexConfig.Breaker config, Listener listener,
      java.util.function.LongSupplier clock) {
    this.vertx = vertx;
    this.config = config;
    this.listener = listener;
    this.clock = clock;
  }

  public Breakers(Vertx vertx, FlopexConfig.Breaker config, Listener listener) {
    this(vertx, config, listener, System::currentTimeMillis);
  }

  /** Whether this failure says something is wrong with the endpoint rather than the request. */
  static boolean counts(ProviderFailure failure) {
    return switch (failure.kind()) {
      case CONTEXT_LENGTH, CANCELLED, NOT_ATTEMPTED -> false;
      case HTTP_STATUS -> failure.clientError() == null;
      default -> true;
    };
  }

  private CircuitBreaker breaker(Endpoint endpoint) {
    return breakers.computeIfAbsent(endpoint, e -> {
      CircuitBreakerOptions options = new CircuitBreakerOptions()
          .setMaxFailures(config.failures())
          .setFailuresRollingWindow(config.windowMs())
          .setResetTimeout(config.resetMs())
          // Outcomes arrive already decided; a trial has its own deadline (see apply).
          .setTimeout(-1)
          .setNotificationAddress(null);
      CircuitBreaker breaker = CircuitBreaker.create("flopex." + e.provider() + "."
          + e.upstreamModel(), vertx, options);
      breaker.failurePolicy(result -> result.failed() && result.cause() == COUNTED);
      breaker.openHandler(v -> {
        openUntil.put(e, clock.getAsLong() + config.resetMs());
        endTrial(e);
        listener.changed(e, CircuitBreakerState.OPEN, !applyingNews);
      });
      breaker.halfOpenHandler(v -> {
        openUntil.remove(e);
        listener.changed(e, CircuitBreakerState.HALF_OPEN, !applyingNews);
      });
      breaker.closeHandler(v -> {
        openUntil.remove(e);
        endTrial(e);
        listener.changed(e, CircuitBreakerState.CLOSED, !applyingNews);
      });
      return breaker;
    });
  }

  private void endTrial(Endpoint endpoint) {
    Trial trial = trials.remove(endpoint);
    if (trial != null) {
      vertx.cancelTimer(trial.timer);
    }
  }

  /** Whether this outcome says nothing about the endpoint, so a trial must wait for another. */
  private static boolean silent(ProviderFailure failure) {
    return failure != null && (failure.kind() == ProviderFailure.Kind.CANCELLED
        || failure.kind() == ProviderFailure.Kind.NOT_ATTEMPTED);
  }

  /** Runs one attempt's outcome through its endpoint's breaker. */
  public void record(AttemptOutcome outcome) {
    Endpoint endpoint = new Endpoint(outcome.provider(), outcome.upstreamModel());
    ProviderFailure failure = outcome.failure();
    RuntimeException verdict = failure == null ? null : counts(failure) ? COUNTED : NOT_COUNTED;
    Trial trial = trials.get(endpoint);
    if (trial != null && trial.assigned && !trial.decided) {
      vertx.cancelTimer(trial.timer);
      if (silent(failure)) {
        // Passed over or abandoned: the next request that may use the endpoint tries it.
        trial.assigned = false;
        return;
      }
      // Kept until the breaker's handlers end it, so no second trial starts meanwhile.
      trial.decided = true;
      if (verdict == null) {
        trial.verdict.complete();
      } else {
        trial.verdict.fail(verdict);
      }
      return;
    }
    if (outcome.interim() || silent(failure)) {
      return;
    }
    CircuitBreaker breaker = breaker(endpoint);
    if (breaker.state() != CircuitBreakerState.CLOSED) {
      // A late answer to a request planned before the circuit opened: the trial decides.
      return;
    }
    breaker.execute(() -> verdict == null ? Future.succeededFuture()
        : Future.<Void>failedFuture(verdict));
  }

  /** Another node opened this endpoint's circuit: open it here too. */
  public void openedElsewhere(Endpoint endpoint) {
    CircuitBreaker breaker = breaker(endpoint);
    if (breaker.state() == CircuitBreakerState.CLOSED) {
      applyingNews = true;
      try {
        breaker.open();
      } finally {
        applyingNews = false;
      }
    }
  }

  /** Another node's trial closed this endpoint's circuit; a half-open one here closes too. */
  public void closedElsewhere(Endpoint endpoint) {
    CircuitBreaker breaker = breakers.get(endpoint);
    Trial trial = trials.get(endpoint);
    if (breaker != null && breaker.state() == CircuitBreakerState.HALF_OPEN
        && (trial == null || !trial.decided)) {
      applyingNews = true;
      try {
        breaker.reset();
      } finally {
        applyingNews = false;
      }
    }
  }

  /** Endpoints whose circuit is open here, for a node that joins the cluster later. */
  public List<Endpoint> open() {
    List<Endpoint> open = new ArrayList<>();
    breakers.forEach((endpoint, breaker) -> {
      if (breaker.state() == CircuitBreakerState.OPEN) {
        open.add(endpoint);
      }
    });
    return open;
  }

  public CircuitBreakerState state(String provider, String upstreamModel) {
    CircuitBreaker breaker = breakers.get(new Endpoint(provider, upstreamModel));
    return breaker == null ? CircuitBreakerState.CLOSED : breaker.state();
  }

  /**
   * When the endpoint may next be tried as far as its circuit is concerned: 0 when it may now,
   * the end of the open period, or, while another request's trial is under way, a second from
   * now.
   */
  public long recoversAt(String provider, String upstreamModel) {
    Endpoint endpoint = new Endpoint(provider, upstreamModel);
    CircuitBreaker breaker = breakers.get(endpoint);
    if (breaker == null || breaker.state() == CircuitBreakerState.CLOSED) {
      return 0;
    }
    if (breaker.state() == CircuitBreakerState.OPEN) {
      return openUntil.getOrDefault(endpoint, clock.getAsLong() + config.resetMs());
    }
    Trial trial = trials.get(endpoint);
    return trial != null && (trial.assigned || trial.decided) ? clock.getAsLong() + 1_000 : 0;
  }

  /**
   * The plan without endpoints whose circuit is open or whose trial is under way. A half-open
   * endpoint whose trial has no request yet is moved to the front of this plan, which becomes
   * its trial; the trial counts as failed if no verdict comes within the endpoint's call
   * timeout and a little more.
   */
  public RoutePlan apply(RoutePlan plan) {
    if (breakers.isEmpty()) {
      return plan;
    }
    List<Route> routes = new ArrayList<>(plan.routes().size());
    Route trialRoute = null;
    for (Route route : plan.routes()) {
      Endpoint endpoint = Endpoint.of(route);
      CircuitBreaker breaker = breakers.get(endpoint);
      CircuitBreakerState state = breaker == null ? CircuitBreakerState.CLOSED : breaker.state();
      if (state == CircuitBreakerState.CLOSED) {
        routes.add(route);
      } else if (state == CircuitBreakerState.HALF_OPEN && trialRoute == null) {
        Trial trial = trials.get(endpoint);
        if (trial == null) {
          trial = new Trial();
          trials.put(endpoint, trial);
          breaker.execute(trial.verdict::future);
        }
        if (!trial.assigned && !trial.decided) {
          trial.assigned = true;
          trialRoute = route;
          Trial assigned = trial;
          assigned.timer = vertx.setTimer(route.callTimeoutMs() + TRIAL_GRACE_MS, id -> {
            if (trials.get(endpoint) == assigned && assigned.assigned && !assigned.decided) {
              assigned.decided = true;
              assigned.verdict.tryFail(COUNTED);
            }
          });
        }
      }
    }
    if (trialRoute != null) {
      routes.add(0, trialRoute);
    }
    if (routes.size() == plan.routes().size() && trialRoute == null) {
      return plan;
    }
    return plan.with(List.copyOf(routes), plan.coolingUntilMillis());
  }
}
