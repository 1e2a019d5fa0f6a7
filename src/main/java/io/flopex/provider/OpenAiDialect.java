package io.flopex.provider;

import io.flopex.bus.ProviderCall;
import io.flopex.bus.Usage;
import io.flopex.config.ProviderConfig;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;

/**
 * The Chat Completions wire format of OpenAI and of the hosts that copy it (Groq, Together,
 * DeepSeek, vLLM...). Requests pass through with the model renamed; streams always ask for usage,
 * since Flopex meters every request whether or not the client wants to see it.
 */
final class OpenAiDialect {

  private final ProviderConfig provider;
  private final String path;

  OpenAiDialect(ProviderConfig provider) {
    this.provider = provider;
    String base = provider.baseUrl().getRawPath();
    this.path = (base == null ? "" : base) + "/chat/completions";
  }

  String path() {
    return path;
  }

  void headers(RequestOptions options, boolean stream) {
    provider.headers().forEach(options::putHeader);
    options.putHeader("authorization", "Bearer " + provider.apiKey());
    options.putHeader("content-type", "application/json");
    options.putHeader("accept", stream ? "text/event-stream" : "application/json");
  }

  Buffer body(ProviderCall call) {
    // A shallow copy: only top-level fields change, the messages are shared read-only.
    JsonObject body = new JsonObject(new LinkedHashMap<>(call.request().getMap()));
    body.put("model", call.route().upstreamModel());
    if (call.streaming()) {
      body.put("stream", true);
      JsonObject options = body.getValue("stream_options") instanceof JsonObject o
          ? o.copy() : new JsonObject();
      body.put("stream_options", options.put("include_usage", true));
    } else {
      body.remove("stream");
      body.remove("stream_options");
    }
    return body.toBuffer();
  }

  /** Renames the model back to the client's name; returns {@code null} if the body is not JSON. */
  JsonObject completed(Buffer raw, String clientModel) {
    JsonObject body = JsonSupport.parseObject(raw);
    if (body == null || !(body.getValue("choices") instanceof JsonArray)) {
      return null;
    }
    body.put("model", clientModel);
    return body;
  }

  Usage usage(JsonObject completed) {
    return Usage.fromOpenAi(completed.getValue("usage"));
  }
}
