package io.flopex.provider;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

/** Lenient JSON parsing for bodies that come from outside: a bad body is {@code null}, not a throw. */
final class JsonSupport {

  private JsonSupport() {}

  static JsonObject parseObject(Buffer raw) {
    try {
      Object value = raw.toJsonValue();
      return value instanceof JsonObject o ? o : null;
    } catch (DecodeException | ClassCastException e) {
      return null;
    }
  }

  static JsonObject parseObject(String raw) {
    try {
      Object value = Buffer.buffer(raw).toJsonValue();
      return value instanceof JsonObject o ? o : null;
    } catch (DecodeException | ClassCastException e) {
      return null;
    }
  }
}
