package io.flopex.config;

/**
 * Prices of one endpoint in micro-USD per million tokens (so {@code 0.59} USD per million tokens
 * is {@code 590_000}). Integers keep every cost computation exact.
 *
 * <p>{@code cachedPromptPerMillion} prices prompt tokens read from the provider's cache, {@code
 * cacheWritePerMillion} prompt tokens written to it, and {@code reasoningPerMillion} the reasoning
 * part of the completion. Each equals the prompt (or completion) price when not configured.
 */
public record Pricing(
    long promptPerMillion,
    long completionPerMillion,
    long cachedPromptPerMillion,
    long cacheWritePerMillion,
    long reasoningPerMillion) {

  /** Prompt, completion and cache-read prices; cache writes and reasoning at the base rates. */
  public Pricing(long promptPerMillion, long completionPerMillion, long cachedPromptPerMillion) {
    this(promptPerMillion, completionPerMillion, cachedPromptPerMillion, promptPerMillion,
        completionPerMillion);
  }
}
