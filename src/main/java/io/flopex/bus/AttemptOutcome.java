package io.flopex.bus;

/**
 * What one attempt at an endpoint came to, for the routing verticle's view of endpoint health:
 * the failure ({@code null} on success) and when it was observed.
 */
public record AttemptOutcome(
    String provider,
    String upstreamModel,
    ProviderFailure failure,
    long observedAtMillis) {}
