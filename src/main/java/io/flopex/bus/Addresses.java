package io.flopex.bus;

/**
 * Every event-bus address Flopex uses. {@code verticles.md} describes each one: the message it
 * carries, who sends it and who consumes it.
 *
 * <p>All of these are node-local: the request path never leaves the node that accepted it.
 */
public final class Addresses {

  /** Request/reply: a {@link RouteRequest} in, a {@link RoutePlan} out. */
  public static final String ROUTING_PLAN = "flopex.routing.plan";

  /** Published: an {@link AttemptOutcome} after every attempt. */
  public static final String ROUTING_OUTCOME = "flopex.routing.outcome";

  /** Published: a {@link CapacityReport} from every provider response that states its budget. */
  public static final String ROUTING_CAPACITY = "flopex.routing.capacity";

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
