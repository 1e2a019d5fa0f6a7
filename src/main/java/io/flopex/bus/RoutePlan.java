package io.flopex.bus;

import java.util.List;

/**
 * The endpoints that may serve one request, in the order to try them, and how many attempts the
 * request may make in all. An empty list means the model is unknown.
 */
public record RoutePlan(String model, List<Route> routes, int maxAttempts) {

  public boolean modelKnown() {
    return !routes.isEmpty();
  }
}
