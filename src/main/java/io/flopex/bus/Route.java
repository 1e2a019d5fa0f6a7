package io.flopex.bus;

import io.flopex.config.Pricing;
import io.flopex.config.ProviderKind;

/**
 * One endpoint a request may be sent to. {@code callTimeoutMs} bounds how long a non-streaming
 * call may take before its caller stops waiting for the provider's reply.
 */
public record Route(
    String provider,
    ProviderKind kind,
    String upstreamModel,
    Pricing pricing,
    long callTimeoutMs) {}
