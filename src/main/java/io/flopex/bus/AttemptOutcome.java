package io.flopex.bus;

/**
 * What one attempt at an endpoint came to, for the routing verticle's view of endpoint health:
 * the failure ({@code null} on success), when it was observed, and for a success its latency,
 * time to first byte (0 when not streamed) and output tokens. An {@code interim} outcome is sent
 * when a stream's first content arrives, before the stream has ended: it shows the endpoint is
 * answering, and is not counted in any average.
 */
public record AttemptOutcome(
    String provider,
    String upstreamModel,
    ProviderFailure failure,
    long observedAtMillis,
    long latencyMs,
    long ttfbMs,
    long outputTokens,
    boolean interim) {

  public AttemptOutcome(String provider, String upstreamModel, ProviderFailure failure,
      long observedAtMillis, long latencyMs, long ttfbMs, long outputTokens) {
    this(provider, upstreamModel, failure, observedAtMillis, latencyMs, ttfbMs, outputTokens,
        false);
  }

  public AttemptOutcome(String provider, String upstreamModel, ProviderFailure failure,
      long observedAtMillis) {
    this(provider, upstreamModel, failure, observedAtMillis, 0, 0, 0);
  }
}
