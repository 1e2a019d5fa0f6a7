package io.flopex.routing;

import io.flopex.config.EndpointConfig;
import io.flopex.config.FlopexConfig;
import io.flopex.config.ModelConfig;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.circuitbreaker.CircuitBreakerState;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Gauges of every configured endpoint's circuit and rest, labelled by provider id and upstream
 * model: {@code flopex.endpoint.circuit.state} (1 for the state the circuit is in, 0 for the
 * other two) and {@code flopex.endpoint.cooldown.seconds} (how long the endpoint still rests
 * after a 429 or an exhausted budget; 0 when it does not).
 *
 * <p>Breakers and cooldowns are confined to the routing verticle's event loop, and a scrape runs
 * on another thread; so the routing verticle copies each change into volatile fields here, and
 * the gauges read only those.
 */
final class EndpointGauges {

  private static final class State {
    volatile CircuitBreakerState circuit = CircuitBreakerState.CLOSED;
    volatile long restsUntilMillis;
  }

  private final MeterRegistry registry;
  private final Clock clock;
  private final Map<Breakers.Endpoint, State> states = new LinkedHashMap<>();
  private final List<Meter> meters = new ArrayList<>();

  EndpointGauges(MeterRegistry registry, FlopexConfig config, Clock clock) {
    this.registry = registry;
    this.clock = clock;
    for (ModelConfig model : config.models()) {
      for (EndpointConfig endpoint : model.endpoints()) {
        states.putIfAbsent(new Breakers.Endpoint(endpoint.provider(), endpoint.upstreamModel()),
            new State());
      }
    }
  }

  /** Registers the gauges; their values follow {@link #circuit} and {@link #rest}. */
  void register() {
    states.forEach((endpoint, state) -> {
      for (CircuitBreakerState each : CircuitBreakerState.values()) {
        meters.add(Gauge.builder("flopex.endpoint.circuit.state", state,
                s -> s.circuit == each ? 1 : 0)
            .description("1 when the endpoint's circuit breaker is in this state, else 0")
            .tags("provider", endpoint.provider(), "upstream_model", endpoint.upstreamModel(),
                "state", each.name().toLowerCase(Locale.ROOT))
            .strongReference(true)
            .register(registry));
      }
      meters.add(Gauge.builder("flopex.endpoint.cooldown.seconds", state,
              s -> Math.max(0, s.restsUntilMillis - clock.millis()) / 1000.0)
          .description("Seconds the endpoint still rests after running out of capacity")
          .tags("provider", endpoint.provider(), "upstream_model", endpoint.upstreamModel())
          .strongReference(true)
          .register(registry));
    });
  }

  /** Removes the gauges, so that a node restarted on the same Vert.x shows its own. */
  void remove() {
    meters.forEach(registry::remove);
    meters.clear();
  }

  void circuit(Breakers.Endpoint endpoint, CircuitBreakerState circuit) {
    State state = states.get(endpoint);
    if (state != null) {
      state.circuit = circuit;
    }
  }

  void rest(String provider, String upstreamModel, long untilMillis) {
    State state = states.get(new Breakers.Endpoint(provider, upstreamModel));
    if (state != null) {
      state.restsUntilMillis = untilMillis;
    }
  }
}
