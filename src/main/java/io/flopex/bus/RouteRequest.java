package io.flopex.bus;

/** Asks the routing verticle which endpoints may serve {@code model}, in the order to try them. */
public record RouteRequest(String model) {}
