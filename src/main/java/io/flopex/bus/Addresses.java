package io.flopex.bus;

/**
 * Every event-bus address Flopex uses. {@code verticles.md} describes each one: the message it
 * carries, who sends it and who consumes it.
 *
 * <p>All of these are node-local, so that the request path never leaves the node that accepted
 * it, except {@link #HEALTH} and {@link #HEALTH_SNAPSHOT}, which carry JSON across the cluster.
 */
public final class Addresses {

  /** Request/reply: a {@link RouteRequest} in, a {@link RoutePlan} out. */
  public static final String ROUTING_PLAN = "flopex.routing.plan";

  /** Request/reply: this node's view of every endpoint's health, as JSON. */
  public static final String ROUTING_STATUS = "flopex.routing.status";

  /** Published: an {@link AttemptOutcome} after every attempt. */
  public static final String ROUTING_OUTCOME = "flopex.routing.outcome";

  /** Published: a {@link CapacityReport} from every provider response that states its budget. */
  public static final String ROUTING_CAPACITY = "flopex.routing.capacity";

  /**
   * Published cluster-wide: a {@link HealthFact} as JSON whenever an endpoint starts resting, runs
   * low on budget or its circuit changes state. Also readable through the TCP bridge.
   */
  public static final String HEALTH = "flopex.health";

  /** Cluster-wide request/reply: a joining node asks for every health fact still in force. */
  public static final String HEALTH_SNAPSHOT = "flopex.health.snapshot";

  /**
   * Published on the node: one JSON summary per finished request (model, provider, attempts,
   * status, latency, tokens, cost; never content), for metrics consumers and the TCP bridge.
   */
  public static final String REQUESTS = "flopex.requests";

  /** Point-to-point: one {@link UsageRecord} per finished request. */
  public static final String USAGE_RECORD = "flopex.usage.record";

  private static final String PROVIDER_PREFIX = "flopex.provider.";
  private static final String STREAM_PREFIX = "flopex.stream.";

  private Addresses() {}

  /**
   * A {@link ProviderCall}: non-streaming calls are answered with a {@link ProviderReply};
   * streaming calls send {@link StreamEvent}s to the call's stream address instead.
   */
  public static String providerCall(String providerId) {
    return PROVIDER_PREFIX + providerId + ".call";
  }

  /** A {@link CallControl} for a call in progress: cancel, pause or resume it. */
  public static String providerControl(String providerId) {
    return PROVIDER_PREFIX + providerId + ".control";
  }

  /** Where the {@link StreamEvent}s of one streaming call are delivered. */
  public static String stream(String callId) {
    return STREAM_PREFIX + callId;
  }
}
