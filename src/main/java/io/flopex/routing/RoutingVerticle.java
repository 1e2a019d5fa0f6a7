package io.flopex.routing;

import io.flopex.bus.Addresses;
import io.flopex.bus.RouteRequest;
import io.flopex.config.FlopexConfig;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;

/** Answers which endpoints may serve a request, in the order to try them. */
public final class RoutingVerticle extends VerticleBase {

  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);

  private final RoutePlanner planner;

  public RoutingVerticle(FlopexConfig config) {
    this.planner = new RoutePlanner(config);
  }

  @Override
  public Future<?> start() {
    MessageConsumer<RouteRequest> consumer = vertx.eventBus().localConsumer(
        Addresses.ROUTING_PLAN,
        message -> message.reply(planner.plan(message.body()), LOCAL));
    return consumer.completion();
  }
}
