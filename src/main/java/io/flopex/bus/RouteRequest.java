package io.flopex.bus;

/**
 * Asks the routing verticle which endpoints may serve {@code model}, in the order to try them,
 * given the request's provider preferences.
 */
public record RouteRequest(String model, ProviderPreferences preferences) {

  public RouteRequest(String model) {
    this(model, ProviderPreferences.NONE);
  }
}
