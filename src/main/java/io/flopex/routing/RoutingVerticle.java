package io.flopex.routing;

import io.flopex.bus.Addresses;
import io.flopex.bus.AttemptOutcome;
import io.flopex.bus.CapacityReport;
import io.flopex.bus.ProviderPreferences;
import io.flopex.bus.RoutePlan;
import io.flopex.bus.RouteRequest;
import io.flopex.config.FlopexConfig;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import java.time.Clock;

/**
 * Answers which endpoints may serve a request, in the order to try them, leaving out those that
 * are resting after running out of capacity.
 */
public final class RoutingVerticle extends VerticleBase {

  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);

  private final RoutePlanner planner;
  private final Cooldowns cooldowns;
  private final EndpointStats stats = new EndpointStats();
  private final Clock clock;

  public RoutingVerticle(FlopexConfig config, Clock clock) {
    this.planner = new RoutePlanner(config);
    this.cooldowns = new Cooldowns(config.routing().defaultCooldownMs());
    this.clock = clock;
  }

  private RoutePlan plan(RouteRequest request) {
    RoutePlan plan = cooldowns.apply(planner.plan(request), clock.millis());
    ProviderPreferences.HealthSort sort = request.preferences().healthSort();
    if (sort == ProviderPreferences.HealthSort.NONE && request.preferences().order().isEmpty()
        && !request.preferences().sortByPrice()) {
      sort = plan.defaultSort();
    }
    return stats.sort(plan, sort);
  }

  @Override
  public Future<?> start() {
    MessageConsumer<RouteRequest> plans = vertx.eventBus().localConsumer(
        Addresses.ROUTING_PLAN,
        message -> message.reply(plan(message.body()), LOCAL));
    MessageConsumer<AttemptOutcome> outcomes = vertx.eventBus().localConsumer(
        Addresses.ROUTING_OUTCOME, message -> {
          cooldowns.record(message.body());
          stats.record(message.body());
        });
    MessageConsumer<CapacityReport> capacity = vertx.eventBus().localConsumer(
        Addresses.ROUTING_CAPACITY, message -> cooldowns.record(message.body()));
    return Future.all(plans.completion(), outcomes.completion(), capacity.completion());
  }
}
