package io.flopex.routing;

import io.flopex.bus.ProviderPreferences;
import io.flopex.bus.Route;
import io.flopex.bus.RoutePlan;
import io.flopex.bus.RouteRequest;
import io.flopex.config.EndpointConfig;
import io.flopex.config.FlopexConfig;
import io.flopex.config.ModelConfig;
import io.flopex.config.ProviderConfig;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the ordered list of endpoints for a model. Endpoints are tried in the order the
 * configuration lists them, or cheapest first for the {@code price} strategy; measured and drawn
 * orders are applied later, by {@link EndpointStats}. Each endpoint appears once, so an endpoint
 * that failed is never tried again within the same request.
 */
public final class RoutePlanner {

  private final Map<String, RoutePlan> plans = new java.util.LinkedHashMap<>();

  public RoutePlanner(FlopexConfig config) {
    Map<String, ProviderConfig> providers = new HashMap<>();
    config.providers().forEach(p -> providers.put(p.id(), p));
    int maxAttempts = config.routing().maxAttempts();
    for (ModelConfig model : config.models()) {
      List<Route> routes = new ArrayList<>();
      for (EndpointConfig endpoint : model.endpoints()) {
        ProviderConfig provider = providers.get(endpoint.provider());
        routes.add(new Route(provider.id(), provider.kind(), endpoint.upstreamModel(),
            endpoint.pricing(), provider.timeouts().connectMs() + provider.timeouts().responseMs(),
            provider.timeouts().firstByteMs(), provider.timeouts().idleMs(),
            endpoint.parameters(), endpoint.weight(), provider.nativeResponses()));
      }
      if (model.strategy() == ModelConfig.Strategy.PRICE) {
        routes.sort(Comparator.comparingLong(
            r -> r.pricing().promptPerMillion() + r.pricing().completionPerMillion()));
      }
      ProviderPreferences.HealthSort measured = switch (model.strategy()) {
        case LATENCY -> ProviderPreferences.HealthSort.LATENCY;
        case THROUGHPUT -> ProviderPreferences.HealthSort.THROUGHPUT;
        case WEIGHTED -> ProviderPreferences.HealthSort.WEIGHTED;
        default -> ProviderPreferences.HealthSort.NONE;
      };
      plans.put(model.id(), new RoutePlan(model.id(), List.copyOf(routes), maxAttempts, true,
          model.contextLength(), 0, measured, List.of(), model.contentPolicyFallback()));
    }
  }

  /** Whether some configured model has this endpoint. */
  public boolean serves(String provider, String upstreamModel) {
    for (RoutePlan plan : plans.values()) {
      for (Route route : plan.routes()) {
        if (route.provider().equals(provider) && route.upstreamModel().equals(upstreamModel)) {
          return true;
        }
      }
    }
    return false;
  }

  /** Every configured model's plan, in the configured order of its endpoints. */
  public java.util.Collection<RoutePlan> plans() {
    return plans.values();
  }

  public RoutePlan plan(String model) {
    return plan(new RouteRequest(model));
  }

  /**
   * The configured order, narrowed and reordered by the request's preferences: endpoints not
   * allowed are removed, and so are those that do not declare every parameter the request
   * requires; those of providers named in {@code order} come first, in that order; with {@code
   * sortByPrice} the rest follow cheapest first (prompt plus completion price).
   */
  public RoutePlan plan(RouteRequest request) {
    RoutePlan plan = plans.get(request.model());
    if (plan == null) {
      return new RoutePlan(request.model(), List.of(), 0, false, 0, 0,
          ProviderPreferences.HealthSort.NONE);
    }
    ProviderPreferences prefs = request.preferences();
    if (prefs.equals(ProviderPreferences.NONE)) {
      return plan;
    }
    List<Route> routes = new ArrayList<>();
    boolean anyAllowed = false;
    for (Route route : plan.routes()) {
      if (prefs.allows(route.provider(), route.pricing())) {
        anyAllowed = true;
        if (prefs.supportedBy(route.parameters())) {
          routes.add(route);
        }
      }
    }
    Comparator<Route> byOrder = Comparator.comparingInt(r -> {
      int i = prefs.order().indexOf(r.provider());
      return i < 0 ? Integer.MAX_VALUE : i;
    });
    if (prefs.sortByPrice()) {
      byOrder = byOrder.thenComparingLong(
          r -> r.pricing().promptPerMillion() + r.pricing().completionPerMillion());
    }
    routes.sort(byOrder);
    List<String> unsupported = anyAllowed && routes.isEmpty()
        ? prefs.requiredParameters() : List.of();
    return new RoutePlan(plan.model(), List.copyOf(routes), plan.maxAttempts(), true,
        plan.contextLength(), 0, plan.defaultSort(), unsupported, plan.contentPolicyFallback());
  }
}
