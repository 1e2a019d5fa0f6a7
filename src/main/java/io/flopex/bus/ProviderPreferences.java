package io.flopex.bus;

import io.flopex.config.Pricing;
import java.util.List;
import java.util.Set;

/**
 * A request's wishes about which endpoints serve it, in OpenRouter's terms: providers to try
 * first ({@code order}), the only ones allowed ({@code only}), ones never to use ({@code
 * ignore}), whether providers outside {@code order} may be used at all ({@code allowFallbacks}),
 * whether to prefer the cheapest ({@code sortByPrice}), price ceilings in micro-USD per million
 * tokens ({@code maxPrompt}, {@code maxCompletion}; {@code -1} for none), and the parameters an
 * endpoint must declare to serve it ({@code requiredParameters}: the canonical names of those the
 * request uses when it set {@code require_parameters}, sorted; empty otherwise).
 */
public record ProviderPreferences(
    List<String> order,
    List<String> only,
    List<String> ignore,
    boolean allowFallbacks,
    boolean sortByPrice,
    long maxPrompt,
    long maxCompletion,
    HealthSort healthSort,
    List<String> requiredParameters) {

  /** Ordering by what recent traffic measured. */
  public enum HealthSort {
    NONE,
    /** Lowest time to first byte first (whole latency where nothing was streamed). */
    LATENCY,
    /** Most output tokens a second first. */
    THROUGHPUT,
    /**
     * Drawn at random for each request, weighted by configuration, price and recent error rate;
     * a model's default only, never a request's.
     */
    WEIGHTED
  }

  public static final ProviderPreferences NONE =
      new ProviderPreferences(List.of(), List.of(), List.of(), true, false, -1, -1);

  public ProviderPreferences(List<String> order, List<String> only, List<String> ignore,
      boolean allowFallbacks, boolean sortByPrice, long maxPrompt, long maxCompletion) {
    this(order, only, ignore, allowFallbacks, sortByPrice, maxPrompt, maxCompletion,
        HealthSort.NONE);
  }

  public ProviderPreferences(List<String> order, List<String> only, List<String> ignore,
      boolean allowFallbacks, boolean sortByPrice, long maxPrompt, long maxCompletion,
      HealthSort healthSort) {
    this(order, only, ignore, allowFallbacks, sortByPrice, maxPrompt, maxCompletion, healthSort,
        List.of());
  }

  /** Whether an endpoint with this provider and price may serve the request at all. */
  public boolean allows(String provider, Pricing pricing) {
    if (!only.isEmpty() && !only.contains(provider)) {
      return false;
    }
    if (ignore.contains(provider)) {
      return false;
    }
    if (!allowFallbacks && !order.isEmpty() && !order.contains(provider)) {
      return false;
    }
    return (maxPrompt < 0 || pricing.promptPerMillion() <= maxPrompt)
        && (maxCompletion < 0 || pricing.completionPerMillion() <= maxCompletion);
  }

  /** Whether an endpoint declaring these parameters supports every one the request requires. */
  public boolean supportedBy(Set<String> declared) {
    return declared.containsAll(requiredParameters);
  }
}
