package io.flopex.config;

/**
 * Time limits for calls to one provider.
 *
 * <p>{@code firstByteMs} and {@code idleMs} guard streams: the first must see a body byte within
 * {@code firstByteMs} of sending, and no gap between body bytes may exceed {@code idleMs}. A
 * non-streaming answer arrives only once the model has finished, so it is bounded by {@code
 * responseMs} instead.
 */
public record Timeouts(long connectMs, long firstByteMs, long idleMs, long responseMs) {

  public static final Timeouts DEFAULT = new Timeouts(2_000, 30_000, 60_000, 300_000);
}
