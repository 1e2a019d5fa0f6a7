package io.flopex.bus;

import io.vertx.core.json.JsonObject;
import java.util.Locale;

/**
 * One change in an endpoint's health, as nodes tell each other and metrics consumers: it rests
 * until a time ({@code cooldown}), its rate-limit budget is running low ({@code capacity}), or its
 * circuit breaker changed state ({@code circuit}). Carried on the event bus as JSON, so that it
 * crosses the cluster and the TCP bridge; it names endpoints, never requests or their content.
 *
 * <p>{@code untilMillis} is when a cooldown ends; {@code fractionLeft} and {@code resetAtMillis}
 * describe a budget; {@code state} is {@code open}, {@code half_open} or {@code closed}. Fields
 * that do not apply to the kind are 0 or null. Times are milliseconds since the epoch: the nodes
 * of a cluster are expected to keep their clocks in step (NTP).
 */
public record HealthFact(
    String node,
    Kind kind,
    String provider,
    String upstreamModel,
    long untilMillis,
    double fractionLeft,
    long resetAtMillis,
    String state,
    long observedAtMillis) {

  /** What changed. */
  public enum Kind {
    COOLDOWN,
    CAPACITY,
    CIRCUIT;

    String wire() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public static HealthFact cooldown(String node, String provider, String upstreamModel,
      long untilMillis, long now) {
    return new HealthFact(node, Kind.COOLDOWN, provider, upstreamModel, untilMillis, 0, 0, null,
        now);
  }

  public static HealthFact capacity(String node, CapacityReport report, long now) {
    return new HealthFact(node, Kind.CAPACITY, report.provider(), report.upstreamModel(), 0,
        report.fractionLeft(), report.resetAtMillis(), null, now);
  }

  public static HealthFact circuit(String node, String provider, String upstreamModel,
      String state, long now) {
    return new HealthFact(node, Kind.CIRCUIT, provider, upstreamModel, 0, 0, 0, state, now);
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject()
        .put("node", node)
        .put("kind", kind.wire())
        .put("provider", provider)
        .put("upstreamModel", upstreamModel)
        .put("observedAt", observedAtMillis);
    switch (kind) {
      case COOLDOWN -> json.put("until", untilMillis);
      case CAPACITY -> json.put("fractionLeft", fractionLeft).put("resetAt", resetAtMillis);
      case CIRCUIT -> json.put("state", state);
      default -> { }
    }
    return json;
  }

  /** No fact may reach further than this into the future, as no provider asks for more. */
  public static final long MAX_AHEAD_MS = 24 * 3_600_000L;

  /**
   * Reads a fact another node sent, refusing times more than a day away from {@code nowMillis}
   * (a wrong clock or a bug must not rest an endpoint for ever).
   *
   * @throws IllegalArgumentException when a field is missing, of the wrong type or out of range
   */
  public static HealthFact fromJson(JsonObject json, long nowMillis) {
    HealthFact fact = fromJson(json);
    for (long time : new long[] {fact.untilMillis, fact.resetAtMillis}) {
      if (time != 0 && (time > nowMillis + MAX_AHEAD_MS || time < nowMillis - MAX_AHEAD_MS)) {
        throw new IllegalArgumentException("a time more than a day away");
      }
    }
    return fact;
  }

  /**
   * Reads a fact another node sent, without checking its times.
   *
   * @throws IllegalArgumentException when a field is missing or of the wrong type
   */
  public static HealthFact fromJson(JsonObject json) {
    try {
      Kind kind = Kind.valueOf(required(json, "kind").toUpperCase(Locale.ROOT));
      String node = required(json, "node");
      String provider = required(json, "provider");
      String upstreamModel = required(json, "upstreamModel");
      long at = json.getLong("observedAt", 0L);
      return switch (kind) {
        case COOLDOWN -> cooldown(node, provider, upstreamModel, json.getLong("until"), at);
        case CAPACITY -> {
          double fraction = json.getDouble("fractionLeft");
          if (!(fraction >= 0 && fraction <= 1)) {
            throw new IllegalArgumentException("fractionLeft out of range");
          }
          yield capacity(node, new CapacityReport(provider, upstreamModel, fraction,
              json.getLong("resetAt")), at);
        }
        case CIRCUIT -> {
          String state = required(json, "state");
          if (!state.equals("open") && !state.equals("closed") && !state.equals("half_open")) {
            throw new IllegalArgumentException("unknown circuit state");
          }
          yield circuit(node, provider, upstreamModel, state, at);
        }
      };
    } catch (ClassCastException | NullPointerException e) {
      throw new IllegalArgumentException("malformed health fact", e);
    }
  }

  private static String required(JsonObject json, String field) {
    String value = json.getString(field);
    if (value == null) {
      throw new IllegalArgumentException("missing " + field);
    }
    return value;
  }
}
