package io.flopex.config;

/** One place a model can be served: a provider and the name that provider knows the model by. */
public record EndpointConfig(String provider, String upstreamModel, Pricing pricing) {}
