package io.flopex.translate;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Pieces of OpenAI-format requests that every translator to another format reads the same way:
 * turns of one role merged, tool-call arguments, data-URL images.
 */
public final class Turns {

  /** The media type and base64 data of a {@code data:} URL. */
  public record DataUrl(String mediaType, String data) {}

  private Turns() {}

  /**
   * Adds {@code items} to the last turn when it has the same role, otherwise as a new turn, so
   * that roles alternate as Anthropic and Gemini want. Nothing is added for no items.
   */
  public static void append(JsonArray turns, String role, String field, JsonArray items) {
    if (items.isEmpty()) {
      return;
    }
    if (!turns.isEmpty()) {
      JsonObject last = turns.getJsonObject(turns.size() - 1);
      if (last.getString("role").equals(role)) {
        last.getJsonArray(field).addAll(items);
        return;
      }
    }
    turns.add(new JsonObject().put("role", role).put(field, items));
  }

  /** A tool call's {@code arguments} string as an object; refused naming the field otherwise. */
  public static JsonObject arguments(Object raw, String at) {
    if (raw == null || (raw instanceof String s && s.isBlank())) {
      return new JsonObject();
    }
    try {
      if (raw instanceof String s) {
        return new JsonObject(s);
      }
    } catch (DecodeException | ClassCastException e) {
      // refused below
    }
    throw new UnsupportedRequest(at + ".function.arguments", "Tool call arguments must be a JSON"
        + " object.");
  }

  /**
   * The text of a text part, or of a refusal part as the OpenAI SDK echoes an assistant's refusal
   * back in the history; {@code null} for any other part.
   */
  public static String partText(Object part) {
    if (!(part instanceof JsonObject p)) {
      return null;
    }
    Object type = p.getValue("type");
    Object text = "text".equals(type) ? p.getValue("text")
        : "refusal".equals(type) ? p.getValue("refusal") : null;
    return text instanceof String s ? s : null;
  }

  /** The image URL of an {@code image_url} part, in either of OpenAI's two shapes. */
  public static String imageUrl(JsonObject part) {
    Object raw = part.getValue("image_url");
    return raw instanceof JsonObject o && o.getValue("url") instanceof String u ? u
        : raw instanceof String u ? u : null;
  }

  /** A base64 {@code data:} URL taken apart; {@code null} for any other URL. */
  public static DataUrl dataUrl(String url) {
    if (url == null || !url.startsWith("data:")) {
      return null;
    }
    int comma = url.indexOf(',');
    String meta = comma < 0 ? "" : url.substring(5, comma);
    if (comma < 0 || !meta.endsWith(";base64")) {
      return null;
    }
    return new DataUrl(meta.substring(0, meta.length() - ";base64".length()),
        url.substring(comma + 1));
  }
}
