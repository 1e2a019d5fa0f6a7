package io.flopex.bus;

import io.flopex.config.Pricing;
import io.flopex.config.ProviderKind;

/**
 * One endpoint a request may be sent to. {@code callTimeoutMs} bounds how long a non-streaming
 * call may take before its caller stops waiting for the provider's reply; {@code firstByteMs}
 * how long a stream may take to produce its first content; {@code idleMs} how long a stream may
 * stay paused for a client that does not read.
 */
public record Route(
    String provider,
    ProviderKind kind,
    String upstreamModel,
    Pricing pricing,
    long callTimeoutMs,
    long firstByteMs,
    long idleMs) {}
