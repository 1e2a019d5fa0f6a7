package io.flopex.config;

/**
 * Prices of one endpoint in micro-USD per million tokens (so {@code 0.59} USD per million tokens
 * is {@code 590_000}). Integers keep every cost computation exact.
 *
 * <p>{@code cachedPromptPerMillion} prices prompt tokens served from the provider's cache; it
 * equals the prompt price when the configuration does not set it.
 */
public record Pricing(long promptPerMillion, long completionPerMillion, long cachedPromptPerMillion) {}
