package io.flopex.routing;

import io.flopex.bus.Route;
import io.flopex.bus.RoutePlan;
import io.flopex.config.EndpointConfig;
import io.flopex.config.FlopexConfig;
import io.flopex.config.ModelConfig;
import io.flopex.config.ProviderConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the ordered list of endpoints for a model. Endpoints are tried in the order the
 * configuration lists them; each appears once, so an endpoint that failed is never tried again
 * within the same request.
 */
public final class RoutePlanner {

  private final Map<String, RoutePlan> plans = new HashMap<>();

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
            provider.timeouts().firstByteMs(), provider.timeouts().idleMs()));
      }
      plans.put(model.id(), new RoutePlan(model.id(), List.copyOf(routes), maxAttempts));
    }
  }

  public RoutePlan plan(String model) {
    RoutePlan plan = plans.get(model);
    return plan != null ? plan : new RoutePlan(model, List.of(), 0);
  }
}
