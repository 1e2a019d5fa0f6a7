package io.flopex.config;

import java.util.List;

/**
 * A model as clients name it, with its endpoints in order of preference and the order they are
 * tried in when the request does not say: as listed ({@code ordered}), cheapest first ({@code
 * price}), or by this node's recent measurements ({@code latency}, {@code throughput}).
 */
public record ModelConfig(
    String id,
    long contextLength,
    List<EndpointConfig> endpoints,
    Strategy strategy) {

  /** The default order of a model's endpoints. */
  public enum Strategy {
    ORDERED,
    PRICE,
    LATENCY,
    THROUGHPUT
  }

  public ModelConfig(String id, long contextLength, List<EndpointConfig> endpoints) {
    this(id, contextLength, endpoints, Strategy.ORDERED);
  }
}
