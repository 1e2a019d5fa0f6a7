package io.flopex.translate.anthropic;

import io.flopex.bus.Usage;
import io.vertx.core.json.JsonObject;

/**
 * Usage as an Anthropic stream reports it: input and cache counts in {@code message_start}, a
 * growing output count in each {@code message_delta}.
 */
public final class AnthropicUsageTracker {

  private long input;
  private long cacheRead;
  private long cacheWrite;
  private long output;
  private boolean seen;

  /** Reads the usage an event carries, if any; {@code type} is the event's type. */
  public void read(String type, JsonObject data) {
    Object raw = type.equals("message_start") && data.getValue("message") instanceof JsonObject m
        ? m.getValue("usage") : type.equals("message_delta") ? data.getValue("usage") : null;
    if (!(raw instanceof JsonObject u)) {
      return;
    }
    // message_start carries a placeholder output count; only message_delta reports the real one.
    seen |= type.equals("message_delta");
    if (u.getValue("input_tokens") instanceof Number n) {
      input = n.longValue();
    }
    if (u.getValue("cache_read_input_tokens") instanceof Number n) {
      cacheRead = n.longValue();
    }
    if (u.getValue("cache_creation_input_tokens") instanceof Number n) {
      cacheWrite = n.longValue();
    }
    if (u.getValue("output_tokens") instanceof Number n) {
      output = Math.max(output, n.longValue());
    }
  }

  /** The usage, or {@code null} until a {@code message_delta} has reported the output count. */
  public Usage usage() {
    return seen ? new Usage(input + cacheRead + cacheWrite, output, cacheRead, cacheWrite, 0, false)
        : null;
  }
}
