package io.flopex.provider;

import io.vertx.core.MultiMap;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the rate-limit budget a provider reports on every response: OpenAI's and its copies'
 * {@code x-ratelimit-{limit,remaining,reset}-{requests,tokens}} (resets as durations like {@code
 * 6m0s}), and Anthropic's {@code anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset}}
 * (resets as timestamps).
 */
final class RateLimitHeaders {

  /** The tightest budget found: the fraction left and when it resets. */
  record Budget(double fractionLeft, long resetAtMillis) {}

  private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|h|m|s)");

  private RateLimitHeaders() {}

  /** The tightest of the budgets in the headers; {@code null} when there is none. */
  static Budget read(MultiMap headers, long nowMillis) {
    Budget tightest = null;
    for (String kind : new String[] {"requests", "tokens"}) {
      tightest = tighter(tightest, budget(headers.get("x-ratelimit-remaining-" + kind),
          headers.get("x-ratelimit-limit-" + kind),
          duration(headers.get("x-ratelimit-reset-" + kind), nowMillis)));
      tightest = tighter(tightest, budget(headers.get("anthropic-ratelimit-" + kind + "-remaining"),
          headers.get("anthropic-ratelimit-" + kind + "-limit"),
          timestamp(headers.get("anthropic-ratelimit-" + kind + "-reset"), nowMillis)));
    }
    return tightest;
  }

  private static Budget budget(String remaining, String limit, long resetAt) {
    if (remaining == null || limit == null) {
      return null;
    }
    try {
      double left = Double.parseDouble(remaining.trim());
      double max = Double.parseDouble(limit.trim());
      if (max <= 0 || left < 0) {
        return null;
      }
      return new Budget(Math.min(1.0, left / max), resetAt);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static Budget tighter(Budget a, Budget b) {
    if (a == null) {
      return b;
    }
    if (b == null) {
      return a;
    }
    return b.fractionLeft() < a.fractionLeft() ? b : a;
  }

  /** {@code 1s}, {@code 6m0s}, {@code 20ms}, {@code 1h2m3.5s} from now; now when unreadable. */
  static long duration(String value, long nowMillis) {
    if (value == null) {
      return nowMillis;
    }
    Matcher m = DURATION.matcher(value.trim());
    double ms = 0;
    boolean any = false;
    while (m.find()) {
      any = true;
      double n = Double.parseDouble(m.group(1));
      ms += switch (m.group(2)) {
        case "h" -> n * 3_600_000;
        case "m" -> n * 60_000;
        case "s" -> n * 1_000;
        default -> n;
      };
    }
    return any ? nowMillis + (long) ms : nowMillis;
  }

  private static long timestamp(String value, long nowMillis) {
    if (value == null) {
      return nowMillis;
    }
    try {
      return Instant.parse(value.trim()).toEpochMilli();
    } catch (DateTimeParseException e) {
      return nowMillis;
    }
  }
}
