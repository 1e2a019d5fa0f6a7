package io.flopex.testing;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** OpenAI-format stream chunks, built the way providers send them, for scripted upstreams. */
public final class Chunks {

  private Chunks() {}

  public static String role() {
    return envelope(new JsonObject().put("index", 0)
        .put("delta", new JsonObject().put("role", "assistant").put("content", ""))
        .putNull("finish_reason"));
  }

  public static String content(String text) {
    return envelope(new JsonObject().put("index", 0)
        .put("delta", new JsonObject().put("content", text))
        .putNull("finish_reason"));
  }

  public static String finish(String reason) {
    return envelope(new JsonObject().put("index", 0).put("delta", new JsonObject())
        .put("finish_reason", reason));
  }

  public static String usage(long prompt, long completion) {
    return new JsonObject().put("id", "chatcmpl-up").put("object", "chat.completion.chunk")
        .put("created", 1770000000).put("model", "upstream-model").put("choices", new JsonArray())
        .put("usage", new JsonObject().put("prompt_tokens", prompt)
            .put("completion_tokens", completion).put("total_tokens", prompt + completion))
        .encode();
  }

  public static String error(String type, String message) {
    return new JsonObject().put("error", new JsonObject().put("type", type)
        .put("message", message)).encode();
  }

  private static String envelope(JsonObject choice) {
    return new JsonObject().put("id", "chatcmpl-up").put("object", "chat.completion.chunk")
        .put("created", 1770000000).put("model", "upstream-model")
        .put("choices", new JsonArray().add(choice)).encode();
  }

  /** A minimal valid request body for model {@code m}. */
  public static String request(boolean stream, String extra) {
    return "{\"model\":\"m\",\"stream\":" + stream
        + ",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]"
        + (extra == null || extra.isEmpty() ? "" : "," + extra) + "}";
  }
}
