package io.flopex.config;

import java.util.Set;

/**
 * One place a model can be served: a provider and the name that provider knows the model by.
 * {@code parameters} are the request parameters it declares it supports, by their canonical
 * names ({@link RequestParameters}); empty when it declares none. {@code weight} is its share of
 * first attempts under the {@code weighted} strategy, before price, health and capacity.
 */
public record EndpointConfig(
    String provider,
    String upstreamModel,
    Pricing pricing,
    Set<String> parameters,
    double weight) {

  /** An endpoint that declares no parameters, with the default weight. */
  public EndpointConfig(String provider, String upstreamModel, Pricing pricing) {
    this(provider, upstreamModel, pricing, Set.of(), 1);
  }
}
