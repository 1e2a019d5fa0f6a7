package io.flopex.bus;

import io.flopex.config.Pricing;
import io.flopex.config.ProviderKind;
import java.util.Set;

/**
 * One endpoint a request may be sent to. {@code nativeResponses}: its provider serves the OpenAI
 * Responses API itself. {@code callTimeoutMs} bounds how long a non-streaming
 * call may take before its caller stops waiting for the provider's reply; {@code firstByteMs}
 * how long a stream may take to produce its first content; {@code idleMs} how long a stream may
 * stay paused for a client that does not read. {@code parameters} are the request parameters the
 * endpoint declares it supports (canonical names, empty when it declares none) and {@code
 * weight} its configured weight for the {@code weighted} strategy.
 */
public record Route(
    String provider,
    ProviderKind kind,
    String upstreamModel,
    Pricing pricing,
    long callTimeoutMs,
    long firstByteMs,
    long idleMs,
    Set<String> parameters,
    double weight,
    boolean nativeResponses) {

  /** An endpoint whose provider takes Responses requests by way of Chat Completions. */
  public Route(String provider, ProviderKind kind, String upstreamModel, Pricing pricing,
      long callTimeoutMs, long firstByteMs, long idleMs, Set<String> parameters, double weight) {
    this(provider, kind, upstreamModel, pricing, callTimeoutMs, firstByteMs, idleMs, parameters,
        weight, false);
  }

  /** An endpoint that declares no parameters, with the default weight. */
  public Route(String provider, ProviderKind kind, String upstreamModel, Pricing pricing,
      long callTimeoutMs, long firstByteMs, long idleMs) {
    this(provider, kind, upstreamModel, pricing, callTimeoutMs, firstByteMs, idleMs, Set.of(), 1);
  }
}
