package io.flopex.translate;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/**
 * One server-sent event for the client, in the client's dialect: an optional event name and a
 * JSON payload, or the literal {@code [DONE]} that ends an OpenAI stream.
 */
public record ClientEvent(String name, JsonObject data) {

  public static final ClientEvent DONE = new ClientEvent(null, null);

  public static ClientEvent data(JsonObject data) {
    return new ClientEvent(null, data);
  }

  /** The event framed for the wire. */
  public Buffer frame() {
    Buffer out = Buffer.buffer();
    if (name != null) {
      out.appendString("event: ").appendString(name).appendString("\n");
    }
    if (data == null) {
      return out.appendString("data: [DONE]\n\n");
    }
    return out.appendString("data: ").appendBuffer(data.toBuffer()).appendString("\n\n");
  }
}
