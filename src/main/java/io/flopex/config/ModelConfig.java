package io.flopex.config;

import java.util.List;

/**
 * A model as clients name it, with its endpoints in order of preference and the order they are
 * tried in when the request does not say: as listed ({@code ordered}), cheapest first ({@code
 * price}), by this node's recent measurements ({@code latency}, {@code throughput}), or drawn at
 * random for each request in proportion to each endpoint's weight ({@code weighted}).
 * {@code contentPolicyFallback} names the model a request moves to when a provider refuses it
 * under its content policy; null keeps the refusal for the client.
 */
public record ModelConfig(
    String id,
    long contextLength,
    List<EndpointConfig> endpoints,
    Strategy strategy,
    String contentPolicyFallback) {

  public ModelConfig(String id, long contextLength, List<EndpointConfig> endpoints,
      Strategy strategy) {
    this(id, contextLength, endpoints, strategy, null);
  }

  /** The default order of a model's endpoints. */
  public enum Strategy {
    ORDERED,
    PRICE,
    LATENCY,
    THROUGHPUT,
    WEIGHTED
  }

  public ModelConfig(String id, long contextLength, List<EndpointConfig> endpoints) {
    this(id, contextLength, endpoints, Strategy.ORDERED);
  }
}
