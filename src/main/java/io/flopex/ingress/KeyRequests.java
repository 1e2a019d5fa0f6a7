package io.flopex.ingress;

import io.flopex.bus.Failure;
import io.flopex.db.KeyLimits;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the fields of a key as the account API takes them, refusing anything unknown or out of
 * range with a 400 that names the field. Amounts are integer micro-USD.
 */
final class KeyRequests {

  static final Set<String> FIELDS = Set.of("name", "limit_micros", "limit_reset", "rpm", "tpm",
      "max_concurrent", "expires_at", "allowed_models");
  private static final long MAX_MICROS = 1_000_000_000_000_000L;

  private KeyRequests() {}

  static void known(JsonObject body) {
    for (String field : body.fieldNames()) {
      if (!FIELDS.contains(field)) {
        throw new ApiError(Failure.INVALID_REQUEST, "Unknown field '"
            + ChatExchange.printable(field) + "'; a key has " + String.join(", ",
            new java.util.TreeSet<>(FIELDS)) + ".", ChatExchange.printable(field));
      }
    }
  }

  static String name(JsonObject body, String fallback) {
    Object name = body.getValue("name", fallback);
    if (name == null) {
      return null;
    }
    if (!(name instanceof String n) || n.isBlank() || n.length() > 100
        || n.chars().anyMatch(Character::isISOControl)) {
      throw new ApiError(Failure.INVALID_REQUEST, "'name' must be 1 to 100 printable characters.",
          "name");
    }
    return n;
  }

  /** The limits of a new key. */
  static KeyLimits limits(JsonObject body) {
    known(body);
    Map<String, Object> columns = changes(body);
    OffsetDateTime expires = (OffsetDateTime) columns.get("expires_at");
    if (expires != null && !expires.isAfter(OffsetDateTime.now())) {
      throw new ApiError(Failure.INVALID_REQUEST, "'expires_at' must be in the future.",
          "expires_at");
    }
    @SuppressWarnings("unchecked")
    List<String> models = (List<String>) columns.get("allowed_models");
    return new KeyLimits((Long) columns.get("limit_micros"), (String) columns.get("limit_reset"),
        (Integer) columns.get("rpm"), (Long) columns.get("tpm"),
        (Integer) columns.get("max_concurrent"), expires, models);
  }

  /**
   * The limit columns a request sets, by column name; a field given as null removes that
   * limit. Fields absent from the body are left out, so a PATCH changes only what it names.
   */
  static Map<String, Object> changes(JsonObject body) {
    known(body);
    Map<String, Object> columns = new LinkedHashMap<>();
    if (body.containsKey("limit_micros")) {
      columns.put("limit_micros", whole(body, "limit_micros", 0, MAX_MICROS));
    }
    if (body.containsKey("limit_reset")) {
      Object reset = body.getValue("limit_reset");
      if (reset != null && !Set.of("daily", "weekly", "monthly").contains(reset)) {
        throw new ApiError(Failure.INVALID_REQUEST, "'limit_reset' must be daily, weekly,"
            + " monthly or null.", "limit_reset");
      }
      columns.put("limit_reset", reset);
    }
    if (body.containsKey("rpm")) {
      Long rpm = whole(body, "rpm", 1, 1_000_000);
      columns.put("rpm", rpm == null ? null : rpm.intValue());
    }
    if (body.containsKey("tpm")) {
      columns.put("tpm", whole(body, "tpm", 1, 1_000_000_000_000L));
    }
    if (body.containsKey("max_concurrent")) {
      Long max = whole(body, "max_concurrent", 1, 100_000);
      columns.put("max_concurrent", max == null ? null : max.intValue());
    }
    if (body.containsKey("expires_at")) {
      Object value = body.getValue("expires_at");
      if (value == null) {
        columns.put("expires_at", null);
      } else {
        try {
          columns.put("expires_at", OffsetDateTime.parse((String) value));
        } catch (ClassCastException | DateTimeParseException e) {
          throw new ApiError(Failure.INVALID_REQUEST, "'expires_at' must be an ISO-8601 time"
              + " with an offset, e.g. 2027-01-31T00:00:00Z, or null.", "expires_at");
        }
      }
    }
    if (body.containsKey("allowed_models")) {
      Object value = body.getValue("allowed_models");
      if (value == null) {
        columns.put("allowed_models", null);
      } else if (value instanceof JsonArray array && !array.isEmpty() && array.size() <= 100) {
        List<String> models = new ArrayList<>();
        for (Object model : array) {
          if (!(model instanceof String m) || m.isBlank() || m.length() > 200
              || m.chars().anyMatch(Character::isISOControl)) {
            throw new ApiError(Failure.INVALID_REQUEST, "'allowed_models' must list model"
                + " names of printable characters.", "allowed_models");
          }
          models.add(m);
        }
        columns.put("allowed_models", List.copyOf(models));
      } else {
        throw new ApiError(Failure.INVALID_REQUEST, "'allowed_models' must be a list of 1 to"
            + " 100 model names, or null for every model.", "allowed_models");
      }
    }
    return columns;
  }

  private static Long whole(JsonObject body, String field, long min, long max) {
    Object value = body.getValue(field);
    if (value == null) {
      return null;
    }
    if (!(value instanceof Integer || value instanceof Long) || ((Number) value).longValue() < min
        || ((Number) value).longValue() > max) {
      throw new ApiError(Failure.INVALID_REQUEST, "'" + field + "' must be a whole number from "
          + min + " to " + max + ", or null for no limit.", field);
    }
    return ((Number) value).longValue();
  }
}
