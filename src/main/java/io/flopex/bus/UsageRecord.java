package io.flopex.bus;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * The metadata of one request: who, which model, where it went, how it ended, tokens and cost.
 * It has no field that could hold message content.
 */
public record UsageRecord(
    UUID id,
    String requestId,
    Instant createdAt,
    UUID accountId,
    UUID keyId,
    String model,
    String provider,
    String upstreamModel,
    boolean streamed,
    String outcome,
    int status,
    List<AttemptRecord> attempts,
    Usage usage,
    long costMicros,
    long latencyMs,
    long ttfbMs) {}
