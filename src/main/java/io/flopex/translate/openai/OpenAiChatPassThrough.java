package io.flopex.translate.openai;

import io.flopex.bus.Usage;
import io.flopex.translate.StreamTranslator;
import io.flopex.translate.Translated;
import io.flopex.translate.Translator;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * OpenAI Chat Completions client to an OpenAI-format provider: the request passes through with
 * the model renamed, and streams always ask for usage, since Flopex meters every request whether
 * or not the client wants to see it.
 *
 * <p>One output limit is sent: {@code max_completion_tokens} when both are given, else {@code
 * max_tokens}. OpenAI itself gets it as {@code max_completion_tokens}, the only name its reasoning
 * models accept; other hosts get {@code max_tokens}, the name every one of them knows.
 */
public final class OpenAiChatPassThrough implements Translator {

  private final boolean openAi;

  /** @param openAi whether the provider is OpenAI itself rather than a host copying its API */
  public OpenAiChatPassThrough(boolean openAi) {
    this.openAi = openAi;
  }

  @Override
  public JsonObject request(JsonObject clientRequest, String upstreamModel, boolean stream,
      List<String> warnings) {
    // A shallow copy: only top-level fields change, the messages are shared read-only.
    JsonObject body = new JsonObject(new LinkedHashMap<>(clientRequest.getMap()));
    body.put("model", upstreamModel);
    Object newer = body.remove("max_completion_tokens");
    Object older = body.remove("max_tokens");
    Object limit = newer != null ? newer : older;
    if (limit != null) {
      body.put(openAi ? "max_completion_tokens" : "max_tokens", limit);
    }
    if (stream) {
      body.put("stream", true);
      JsonObject options = body.getValue("stream_options") instanceof JsonObject o
          ? o.copy() : new JsonObject();
      body.put("stream_options", options.put("include_usage", true));
    } else {
      body.remove("stream");
      body.remove("stream_options");
    }
    return body;
  }

  @Override
  public Translated response(JsonObject upstreamBody, String clientModel) {
    if (!(upstreamBody.getValue("choices") instanceof JsonArray choices) || choices.isEmpty()) {
      return null;
    }
    JsonObject body = new JsonObject(new LinkedHashMap<>(upstreamBody.getMap()));
    body.put("model", clientModel);
    body.getMap().keySet().removeIf(field -> field.startsWith("x_"));
    return new Translated(body, Usage.fromOpenAi(body.getValue("usage")));
  }

  @Override
  public StreamTranslator stream(StreamContext context) {
    return new OpenAiStreamRelay(context.id(), context.clientModel(), context.includeUsage());
  }
}
