package io.flopex.provider;

import io.vertx.core.MultiMap;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/** Reads how long an upstream asks to be left alone, from {@code retry-after} and its variants. */
final class RetryAfter {

  private static final long MAX_MS = 24L * 3600 * 1000;

  private RetryAfter() {}

  /** Milliseconds to wait, or 0 when the upstream said nothing usable. */
  static long parseMillis(MultiMap headers) {
    String ms = headers.get("retry-after-ms");
    if (ms != null) {
      try {
        return clamp((long) Double.parseDouble(ms.trim()));
      } catch (NumberFormatException ignored) {
        // fall through to retry-after
      }
    }
    String value = headers.get("retry-after");
    if (value == null) {
      return 0;
    }
    value = value.trim();
    try {
      return clamp((long) (Double.parseDouble(value) * 1000));
    } catch (NumberFormatException ignored) {
      // an HTTP date
    }
    try {
      ZonedDateTime at = ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME);
      return clamp(Duration.between(ZonedDateTime.now(at.getZone()), at).toMillis());
    } catch (DateTimeParseException e) {
      return 0;
    }
  }

  /**
   * Google reports the delay in the error body instead, as a {@code RetryInfo} detail with a
   * {@code retryDelay} such as {@code "34.4s"}; 0 when there is none.
   */
  static long fromBody(JsonObject body) {
    if (body == null || !(body.getValue("error") instanceof JsonObject error)
        || !(error.getValue("details") instanceof JsonArray details)) {
      return 0;
    }
    for (Object d : details) {
      if (d instanceof JsonObject detail && detail.getValue("retryDelay") instanceof String delay
          && delay.endsWith("s")) {
        try {
          return clamp((long) (Double.parseDouble(delay.substring(0, delay.length() - 1)) * 1000));
        } catch (NumberFormatException ignored) {
          return 0;
        }
      }
    }
    return 0;
  }

  private static long clamp(long ms) {
    return Math.max(0, Math.min(MAX_MS, ms));
  }
}
