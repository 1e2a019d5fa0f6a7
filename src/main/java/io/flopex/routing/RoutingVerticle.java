package io.flopex.routing;

import io.flopex.bus.Addresses;
import io.flopex.bus.AttemptOutcome;
import io.flopex.bus.CapacityReport;
import io.flopex.bus.HealthFact;
import io.flopex.bus.ProviderPreferences;
import io.flopex.bus.RoutePlan;
import io.flopex.bus.RouteRequest;
import io.flopex.config.FlopexConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.circuitbreaker.CircuitBreakerState;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.flopex.bus.Route;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers which endpoints may serve a request, in the order to try them, leaving out those that
 * are resting after running out of capacity or whose circuit is open.
 *
 * <p>What it learns about endpoints it also tells the other nodes of the cluster, as JSON
 * {@link HealthFact}s on {@link Addresses#HEALTH}: a cooldown that began or grew longer, a
 * budget running low, a circuit that opened or closed. It applies theirs the same way, so every
 * node stops sending traffic to a full provider as soon as one of them hits it. A node that
 * joins later asks the others for the facts still in force. Latency and throughput averages stay
 * on the node that measured them.
 *
 * <p>It also keeps the gauges of every endpoint's circuit and rest ({@link EndpointGauges}).
 */
public final class RoutingVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(RoutingVerticle.class);
  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);

  /** Below this fraction of budget left, a node tells the others how much remains. */
  static final double SHARE_CAPACITY_BELOW = Cooldowns.LOW_CAPACITY;
  /** A change in the budget left smaller than this is not worth telling the others. */
  static final double SHARE_CAPACITY_STEP = 0.02;
  private static final int SNAPSHOT_TRIES = 3;

  private final RoutePlanner planner;
  private final Cooldowns cooldowns;
  private final EndpointStats stats = new EndpointStats();
  private final FlopexConfig.Breaker breakerConfig;
  private final Clock clock;
  private final String node = UUID.randomUUID().toString();
  private final Map<Breakers.Endpoint, Double> sharedCapacity = new HashMap<>();
  private final EndpointGauges gauges;
  private Breakers breakers;

  /** Keeps gauges of every endpoint's circuit and rest in {@code registry}. */
  public RoutingVerticle(FlopexConfig config, Clock clock, MeterRegistry registry) {
    this.planner = new RoutePlanner(config);
    this.cooldowns = new Cooldowns(config.routing().defaultCooldownMs());
    this.breakerConfig = config.routing().breaker();
    this.clock = clock;
    this.gauges = new EndpointGauges(registry, config, clock);
  }

  private RoutePlan plan(RouteRequest request) {
    RoutePlan allowed = planner.plan(request);
    ProviderPreferences.HealthSort sort = request.preferences().healthSort();
    if (sort == ProviderPreferences.HealthSort.NONE && request.preferences().order().isEmpty()
        && !request.preferences().sortByPrice()) {
      sort = allowed.defaultSort();
    }
    long now = clock.millis();
    // Cooldowns and budgets act on the measured order, and a half-open endpoint's trial goes
    // first whatever the order.
    RoutePlan plan = breakers.apply(cooldowns.apply(stats.sort(allowed, sort), now));
    if (plan.routes().isEmpty() && !allowed.routes().isEmpty()) {
      // Every endpoint is resting or its circuit is open: the first to recover from both.
      long earliest = Long.MAX_VALUE;
      for (Route route : allowed.routes()) {
        long rest = cooldowns.restsUntil(route.provider(), route.upstreamModel(), now);
        long circuit = breakers.recoversAt(route.provider(), route.upstreamModel());
        earliest = Math.min(earliest, Math.max(Math.max(rest, circuit), now + 1));
      }
      plan = plan.with(List.of(), earliest);
    }
    return plan;
  }

  @Override
  public Future<?> start() {
    breakers = new Breakers(vertx, breakerConfig, this::circuitChanged, clock::millis);
    gauges.register();
    MessageConsumer<RouteRequest> plans = vertx.eventBus().localConsumer(
        Addresses.ROUTING_PLAN,
        message -> message.reply(plan(message.body()), LOCAL));
    MessageConsumer<AttemptOutcome> outcomes = vertx.eventBus().localConsumer(
        Addresses.ROUTING_OUTCOME, message -> outcome(message.body()));
    MessageConsumer<CapacityReport> capacity = vertx.eventBus().localConsumer(
        Addresses.ROUTING_CAPACITY, message -> capacity(message.body()));
    MessageConsumer<Object> health = vertx.eventBus().consumer(Addresses.HEALTH, this::news);
    MessageConsumer<Object> status = vertx.eventBus().localConsumer(Addresses.ROUTING_STATUS,
        message -> message.reply(status()));
    Future<?> local = Future.all(List.of(plans.completion(), outcomes.completion(),
        capacity.completion(), health.completion(), status.completion()));
    if (!vertx.isClustered()) {
      return local;
    }
    // Ask the nodes already running for what they know, then answer nodes that join later.
    return local
        .compose(v -> askForSnapshot(SNAPSHOT_TRIES))
        .compose(v -> vertx.eventBus().<JsonObject>consumer(Addresses.HEALTH_SNAPSHOT,
            message -> message.reply(snapshot())).completion());
  }

  @Override
  public Future<?> stop() {
    gauges.remove();
    return Future.succeededFuture();
  }

  /**
   * Asks one running node for the facts in force. No node to ask means this is the first one;
   * a node that does not answer (it may be leaving) is followed by another try.
   */
  private Future<Void> askForSnapshot(int triesLeft) {
    return vertx.eventBus().<JsonObject>request(Addresses.HEALTH_SNAPSHOT,
            new JsonObject().put("node", node), new DeliveryOptions().setSendTimeout(2_000))
        .map(reply -> {
          applySnapshot(reply.body());
          return (Void) null;
        })
        .recover(err -> {
          if (err instanceof io.vertx.core.eventbus.ReplyException reply
              && reply.failureType() == io.vertx.core.eventbus.ReplyFailure.NO_HANDLERS) {
            LOG.info("First node of the cluster: no endpoint health to learn");
            return Future.succeededFuture();
          }
          if (triesLeft > 1) {
            return askForSnapshot(triesLeft - 1);
          }
          LOG.warn("No node answered for the cluster's endpoint health ({}); starting without"
              + " it, and learning from news as it comes", err.getMessage());
          return Future.succeededFuture();
        });
  }

  private void outcome(AttemptOutcome outcome) {
    if (outcome.interim()) {
      breakers.record(outcome);
      return;
    }
    long restsUntil = cooldowns.record(outcome);
    if (restsUntil > 0) {
      LOG.info("Endpoint {} {} rests until {} after {}", outcome.provider(),
          outcome.upstreamModel(), java.time.Instant.ofEpochMilli(restsUntil),
          outcome.failure().label());
      tell(HealthFact.cooldown(node, outcome.provider(), outcome.upstreamModel(), restsUntil,
          clock.millis()));
      gauges.rest(outcome.provider(), outcome.upstreamModel(), restsUntil);
    }
    breakers.record(outcome);
    stats.record(outcome);
  }

  private void capacity(CapacityReport report) {
    cooldowns.record(report);
    restChanged(report.provider(), report.upstreamModel());
    Breakers.Endpoint endpoint = new Breakers.Endpoint(report.provider(), report.upstreamModel());
    Double shared = sharedCapacity.get(endpoint);
    double left = report.fractionLeft();
    if (left < SHARE_CAPACITY_BELOW) {
      if (shared == null || left == 0 || Math.abs(shared - left) >= SHARE_CAPACITY_STEP) {
        sharedCapacity.put(endpoint, left);
        tell(HealthFact.capacity(node, report, clock.millis()));
      }
    } else if (shared != null) {
      sharedCapacity.remove(endpoint);
      tell(HealthFact.capacity(node, report, clock.millis()));
    }
  }

  private void circuitChanged(Breakers.Endpoint endpoint, CircuitBreakerState state,
      boolean local) {
    gauges.circuit(endpoint, state);
    String name = state.name().toLowerCase(Locale.ROOT);
    LOG.info("Circuit of endpoint {} {} is {}{}", endpoint.provider(), endpoint.upstreamModel(),
        name, local ? "" : " (as another node found)");
    // Half-open is each node's own timer running out; only opening and closing are news.
    if (local && state != CircuitBreakerState.HALF_OPEN) {
      tell(HealthFact.circuit(node, endpoint.provider(), endpoint.upstreamModel(), name,
          clock.millis()));
    }
  }

  /** Copies an endpoint's rest, which a budget or another node's news may have changed. */
  private void restChanged(String provider, String upstreamModel) {
    gauges.rest(provider, upstreamModel,
        cooldowns.restsUntil(provider, upstreamModel, clock.millis()));
  }

  /** Publishes a fact to every node of the cluster, and to bridge consumers. */
  private void tell(HealthFact fact) {
    vertx.eventBus().publish(Addresses.HEALTH, fact.toJson());
  }

  private void news(Message<Object> message) {
    if (!(message.body() instanceof JsonObject json)) {
      LOG.warn("Ignored a health message that is not a JSON object");
      return;
    }
    HealthFact fact;
    try {
      fact = HealthFact.fromJson(json, clock.millis());
    } catch (IllegalArgumentException e) {
      LOG.warn("Ignored a malformed health message: {}", e.getMessage());
      return;
    }
    if (!fact.node().equals(node)) {
      apply(fact);
    }
  }

  private void apply(HealthFact fact) {
    if (!planner.serves(fact.provider(), fact.upstreamModel())) {
      // Another node's configuration may differ; an endpoint this node lacks is not its concern.
      return;
    }
    switch (fact.kind()) {
      case COOLDOWN -> {
        cooldowns.rest(fact.provider(), fact.upstreamModel(), fact.untilMillis());
        restChanged(fact.provider(), fact.upstreamModel());
      }
      case CAPACITY -> {
        cooldowns.record(new CapacityReport(fact.provider(), fact.upstreamModel(),
            fact.fractionLeft(), fact.resetAtMillis()));
        restChanged(fact.provider(), fact.upstreamModel());
      }
      case CIRCUIT -> {
        Breakers.Endpoint endpoint = new Breakers.Endpoint(fact.provider(),
            fact.upstreamModel());
        if ("open".equals(fact.state())) {
          breakers.openedElsewhere(endpoint);
        } else if ("closed".equals(fact.state())) {
          breakers.closedElsewhere(endpoint);
        }
      }
      default -> { }
    }
  }

  private JsonObject status() {
    long now = clock.millis();
    JsonArray endpoints = new JsonArray();
    for (RoutePlan plan : planner.plans()) {
      for (Route route : plan.routes()) {
        JsonObject endpoint = new JsonObject()
            .put("model", plan.model())
            .put("provider", route.provider())
            .put("upstreamModel", route.upstreamModel())
            .put("circuit", breakers.state(route.provider(), route.upstreamModel()).name()
                .toLowerCase(Locale.ROOT));
        long rest = cooldowns.restsUntil(route.provider(), route.upstreamModel(), now);
        if (rest > 0) {
          endpoint.put("restingUntil", Instant.ofEpochMilli(rest).toString());
        }
        CapacityReport budget = cooldowns.budget(route.provider(), route.upstreamModel(), now);
        if (budget != null) {
          endpoint.put("budgetLeft", budget.fractionLeft())
              .put("budgetResetsAt", Instant.ofEpochMilli(budget.resetAtMillis()).toString());
        }
        endpoint.put("measured", stats.describe(route.provider(), route.upstreamModel()));
        endpoints.add(endpoint);
      }
    }
    return new JsonObject().put("clustered", vertx.isClustered()).put("endpoints", endpoints);
  }

  private JsonObject snapshot() {
    long now = clock.millis();
    JsonArray facts = new JsonArray();
    cooldowns.rests(now).forEach(rest -> facts.add(HealthFact.cooldown(node, rest.provider(),
        rest.upstreamModel(), rest.untilMillis(), now).toJson()));
    cooldowns.capacities(now).forEach(report ->
        facts.add(HealthFact.capacity(node, report, now).toJson()));
    breakers.open().forEach(endpoint -> facts.add(HealthFact.circuit(node, endpoint.provider(),
        endpoint.upstreamModel(), "open", now).toJson()));
    return new JsonObject().put("facts", facts);
  }

  private void applySnapshot(JsonObject snapshot) {
    JsonArray facts = snapshot.getJsonArray("facts", new JsonArray());
    int applied = 0;
    for (Object item : facts) {
      if (item instanceof JsonObject json) {
        try {
          apply(HealthFact.fromJson(json, clock.millis()));
          applied++;
        } catch (IllegalArgumentException e) {
          LOG.warn("Ignored a malformed fact in the cluster's health snapshot: {}",
              e.getMessage());
        }
      }
    }
    LOG.info("Joined the cluster's view of endpoint health: {} facts in force", applied);
  }
}
