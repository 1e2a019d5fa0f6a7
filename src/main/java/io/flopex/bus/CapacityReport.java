package io.flopex.bus;

/**
 * How much of its rate limit an endpoint had left, as the provider's response headers said:
 * the smaller of the request and token fractions left ({@code 0.0} to {@code 1.0}), and when
 * that budget resets.
 */
public record CapacityReport(
    String provider,
    String upstreamModel,
    double fractionLeft,
    long resetAtMillis) {}
