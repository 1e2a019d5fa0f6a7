package io.flopex.bus;

import java.util.List;

/**
 * The endpoints that may serve one request, in the order to try them, and how many attempts the
 * request may make in all. {@code modelKnown} is false for a model the gateway does not have; a
 * known model can still have no route left once the request's provider preferences are applied.
 * {@code contextLength} is the model's window in tokens, 0 when not configured. When endpoints
 * were left out because they are cooling down, {@code coolingUntilMillis} is the earliest time
 * one of them recovers, 0 otherwise. {@code defaultSort} is the model's configured measured
 * order, used when the request asks for none. {@code unsupportedParameters} names the request's
 * parameters when endpoints matched its other preferences but none declares them all ({@code
 * provider.require_parameters}); it is empty otherwise. {@code contentPolicyFallback} is the
 * model to move to when a provider refuses the request under its content policy, or null.
 */
public record RoutePlan(
    String model,
    List<Route> routes,
    int maxAttempts,
    boolean modelKnown,
    long contextLength,
    long coolingUntilMillis,
    ProviderPreferences.HealthSort defaultSort,
    List<String> unsupportedParameters,
    String contentPolicyFallback) {

  public RoutePlan(String model, List<Route> routes, int maxAttempts, boolean modelKnown,
      long contextLength, long coolingUntilMillis, ProviderPreferences.HealthSort defaultSort,
      List<String> unsupportedParameters) {
    this(model, routes, maxAttempts, modelKnown, contextLength, coolingUntilMillis, defaultSort,
        unsupportedParameters, null);
  }

  public RoutePlan(String model, List<Route> routes, int maxAttempts) {
    this(model, routes, maxAttempts, !routes.isEmpty(), 0, 0,
        ProviderPreferences.HealthSort.NONE);
  }

  public RoutePlan(
      String model,
      List<Route> routes,
      int maxAttempts,
      boolean modelKnown,
      long contextLength,
      long coolingUntilMillis,
      ProviderPreferences.HealthSort defaultSort) {
    this(model, routes, maxAttempts, modelKnown, contextLength, coolingUntilMillis, defaultSort,
        List.of());
  }

  /** The same plan with only these routes, and when the first excluded one recovers. */
  public RoutePlan with(List<Route> remaining, long coolingUntil) {
    return new RoutePlan(model, remaining, maxAttempts, modelKnown, contextLength, coolingUntil,
        defaultSort, unsupportedParameters, contentPolicyFallback);
  }
}
