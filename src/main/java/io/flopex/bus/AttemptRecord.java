package io.flopex.bus;

/** One attempt of a request, as kept in its usage row. */
public record AttemptRecord(String provider, String upstreamModel, String outcome, long latencyMs) {}
