package io.flopex.translate.anthropic;

import io.flopex.bus.Usage;
import io.flopex.translate.FinishReasons;
import io.flopex.translate.StreamTranslator;
import io.flopex.translate.Translated;
import io.flopex.translate.Translator;
import io.flopex.translate.Turns;
import io.flopex.translate.UnsupportedRequest;
import io.flopex.translate.openai.OpenAiUsage;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Set;

/**
 * OpenAI Chat Completions client to Anthropic's Messages API.
 *
 * <p>System and developer messages, wherever they stand, become the top-level {@code system}
 * blocks in order; tool calls become {@code tool_use} blocks and tool replies {@code tool_result}
 * blocks in a user turn; consecutive turns of one role are merged, as Anthropic wants roles to
 * alternate; empty text is never sent. {@code max_completion_tokens} wins over {@code
 * max_tokens}; with neither, {@link #DEFAULT_MAX_TOKENS} is sent, since Anthropic requires it.
 */
public final class OpenAiChatToAnthropic implements Translator {

  /** Sent as {@code max_tokens} when the client set no limit; Anthropic requires one. */
  public static final int DEFAULT_MAX_TOKENS = 4096;

  /** Fields with no Anthropic counterpart that do not change what the answer is. */
  private static final Set<String> DROPPED = Set.of("presence_penalty", "frequency_penalty",
      "logit_bias", "logprobs", "top_logprobs", "seed", "service_tier", "store", "metadata",
      "modalities", "audio", "prediction", "web_search_options", "verbosity", "prompt_cache_key",
      "safety_identifier", "reasoning_effort", "response_format", "functions", "function_call");

  @Override
  public JsonObject request(JsonObject client, String upstreamModel, boolean stream,
      List<String> warnings) {
    JsonObject body = new JsonObject().put("model", upstreamModel);
    JsonArray system = new JsonArray();
    JsonArray messages = new JsonArray();
    JsonArray input = client.getJsonArray("messages");
    for (int i = 0; i < input.size(); i++) {
      JsonObject message = input.getJsonObject(i);
      String at = "messages[" + i + "]";
      switch (message.getString("role")) {
        case "system", "developer" -> textBlocks(message.getValue("content"), at, system);
        case "user" -> Turns.append(messages, "user", "content",
            userBlocks(message.getValue("content"), at));
        case "assistant" -> Turns.append(messages, "assistant", "content",
            assistantBlocks(message, at));
        case "tool", "function" -> Turns.append(messages, "user", "content",
            new JsonArray().add(toolResult(message, at)));
        default -> throw new UnsupportedRequest(at + ".role", "Unknown role.");
      }
    }
    if (!system.isEmpty()) {
      body.put("system", system);
    }
    if (messages.isEmpty()) {
      throw new UnsupportedRequest("messages", "Anthropic needs at least one user or assistant"
          + " message besides the system prompt.");
    }
    body.put("messages", messages);
    body.put("max_tokens", maxTokens(client));
    copyNumber(client, body, "temperature", warnings);
    copyNumber(client, body, "top_p", warnings);
    Object stop = client.getValue("stop");
    if (stop instanceof String s) {
      body.put("stop_sequences", new JsonArray().add(s));
    } else if (stop instanceof JsonArray a && !a.isEmpty()) {
      body.put("stop_sequences", a.copy());
    }
    if (client.getValue("n") instanceof Number n && n.intValue() > 1) {
      throw new UnsupportedRequest("n", "Anthropic returns one choice per request; 'n' must be 1"
          + " for this model.");
    }
    tools(client, body);
    if (client.getValue("user") instanceof String user && !user.isBlank()) {
      body.put("metadata", new JsonObject().put("user_id", user));
    }
    for (String field : DROPPED) {
      if (client.containsKey(field)) {
        warnings.add("'" + field + "' is not supported by this provider and was dropped");
      }
    }
    if (stream) {
      body.put("stream", true);
    }
    return body;
  }

  private static long maxTokens(JsonObject client) {
    if (client.getValue("max_completion_tokens") instanceof Number n) {
      return n.longValue();
    }
    if (client.getValue("max_tokens") instanceof Number n) {
      return n.longValue();
    }
    return DEFAULT_MAX_TOKENS;
  }

  private static void copyNumber(JsonObject from, JsonObject to, String field,
      List<String> warnings) {
    if (!(from.getValue(field) instanceof Number n)) {
      return;
    }
    if (field.equals("temperature") && n.doubleValue() > 1) {
      // OpenAI's scale ends at 2, Anthropic's at 1.
      to.put(field, 1.0);
      warnings.add("'temperature' above 1 was lowered to 1, this provider's maximum");
      return;
    }
    to.put(field, n);
  }

  private static void textBlocks(Object content, String at, JsonArray into) {
    if (content instanceof String s) {
      if (!s.isEmpty()) {
        into.add(text(s));
      }
      return;
    }
    if (content instanceof JsonArray parts) {
      for (int i = 0; i < parts.size(); i++) {
        String s = Turns.partText(parts.getValue(i));
        if (s == null) {
          throw new UnsupportedRequest(at + ".content[" + i + "]", "Only text parts are"
              + " accepted here.");
        }
        if (!s.isEmpty()) {
          into.add(text(s));
        }
      }
    }
  }

  private static JsonObject text(String s) {
    return new JsonObject().put("type", "text").put("text", s);
  }

  private static JsonArray userBlocks(Object content, String at) {
    JsonArray blocks = new JsonArray();
    if (content instanceof String s) {
      if (!s.isEmpty()) {
        blocks.add(text(s));
      }
      return blocks;
    }
    if (!(content instanceof JsonArray parts)) {
      return blocks;
    }
    for (int i = 0; i < parts.size(); i++) {
      String partAt = at + ".content[" + i + "]";
      if (!(parts.getValue(i) instanceof JsonObject part)) {
        throw new UnsupportedRequest(partAt, "A content part must be an object.");
      }
      String type = part.getValue("type") instanceof String t ? t : "";
      switch (type) {
        case "text" -> {
          if (part.getValue("text") instanceof String s && !s.isEmpty()) {
            blocks.add(text(s));
          }
        }
        case "image_url" -> blocks.add(image(part, partAt));
        default -> throw new UnsupportedRequest(partAt + ".type", "Content parts of type '"
            + type + "' cannot be sent to this provider.");
      }
    }
    return blocks;
  }

  private static JsonObject image(JsonObject part, String at) {
    String url = Turns.imageUrl(part);
    if (url == null) {
      throw new UnsupportedRequest(at + ".image_url.url", "An image part needs a URL.");
    }
    if (url.startsWith("data:")) {
      Turns.DataUrl data = Turns.dataUrl(url);
      if (data == null) {
        throw new UnsupportedRequest(at + ".image_url.url", "A data URL image must be base64.");
      }
      return new JsonObject().put("type", "image").put("source", new JsonObject()
          .put("type", "base64")
          .put("media_type", data.mediaType())
          .put("data", data.data()));
    }
    if (url.startsWith("https://") || url.startsWith("http://")) {
      return new JsonObject().put("type", "image").put("source", new JsonObject()
          .put("type", "url").put("url", url));
    }
    throw new UnsupportedRequest(at + ".image_url.url", "An image URL must be https or a data"
        + " URL.");
  }

  private static JsonArray assistantBlocks(JsonObject message, String at) {
    JsonArray blocks = new JsonArray();
    Object content = message.getValue("content");
    if (content instanceof String s && !s.isEmpty()) {
      blocks.add(text(s));
    } else if (content instanceof JsonArray) {
      textBlocks(content, at, blocks);
    }
    if (message.getValue("tool_calls") instanceof JsonArray calls) {
      for (int i = 0; i < calls.size(); i++) {
        String callAt = at + ".tool_calls[" + i + "]";
        if (!(calls.getValue(i) instanceof JsonObject call)
            || !(call.getValue("function") instanceof JsonObject function)
            || !(function.getValue("name") instanceof String name)) {
          throw new UnsupportedRequest(callAt, "A tool call needs a function with a name.");
        }
        blocks.add(new JsonObject()
            .put("type", "tool_use")
            .put("id", call.getValue("id") instanceof String id ? id : "call_" + i)
            .put("name", name)
            .put("input", Turns.arguments(function.getValue("arguments"), callAt)));
      }
    }
    return blocks;
  }

  private static JsonObject toolResult(JsonObject message, String at) {
    Object id = message.getValue("tool_call_id");
    if (!(id instanceof String toolCallId)) {
      throw new UnsupportedRequest(at + ".tool_call_id", "A tool message needs 'tool_call_id'.");
    }
    JsonObject result = new JsonObject().put("type", "tool_result").put("tool_use_id", toolCallId);
    Object content = message.getValue("content");
    if (content instanceof String s) {
      result.put("content", s);
    } else if (content instanceof JsonArray) {
      JsonArray blocks = new JsonArray();
      textBlocks(content, at, blocks);
      result.put("content", blocks);
    }
    return result;
  }

  private static void tools(JsonObject client, JsonObject body) {
    if (client.getValue("tools") instanceof JsonArray tools && !tools.isEmpty()) {
      JsonArray out = new JsonArray();
      for (int i = 0; i < tools.size(); i++) {
        String at = "tools[" + i + "]";
        if (!(tools.getValue(i) instanceof JsonObject tool)
            || !(tool.getValue("function") instanceof JsonObject function)
            || !(function.getValue("name") instanceof String name)) {
          throw new UnsupportedRequest(at, "Only function tools with a name are supported.");
        }
        JsonObject converted = new JsonObject().put("name", name)
            .put("input_schema", function.getValue("parameters") instanceof JsonObject schema
                ? schema : new JsonObject().put("type", "object"));
        if (function.getValue("description") instanceof String description) {
          converted.put("description", description);
        }
        out.add(converted);
      }
      body.put("tools", out);
    }
    JsonObject choice = null;
    Object raw = client.getValue("tool_choice");
    if ("auto".equals(raw)) {
      choice = new JsonObject().put("type", "auto");
    } else if ("none".equals(raw)) {
      choice = new JsonObject().put("type", "none");
    } else if ("required".equals(raw)) {
      choice = new JsonObject().put("type", "any");
    } else if (raw instanceof JsonObject o && o.getValue("function") instanceof JsonObject f
        && f.getValue("name") instanceof String name) {
      choice = new JsonObject().put("type", "tool").put("name", name);
    } else if (raw != null) {
      throw new UnsupportedRequest("tool_choice", "'tool_choice' must be auto, none, required"
          + " or a function.");
    }
    if (Boolean.FALSE.equals(client.getValue("parallel_tool_calls"))) {
      choice = (choice == null ? new JsonObject().put("type", "auto") : choice)
          .put("disable_parallel_tool_use", true);
    }
    if (choice != null) {
      body.put("tool_choice", choice);
    }
  }

  @Override
  public Translated response(JsonObject upstream, String clientModel) {
    if (!(upstream.getValue("content") instanceof JsonArray content)) {
      return null;
    }
    StringBuilder text = new StringBuilder();
    JsonArray toolCalls = new JsonArray();
    for (Object b : content) {
      if (!(b instanceof JsonObject block)) {
        continue;
      }
      String type = block.getValue("type") instanceof String t ? t : "";
      if (type.equals("text") && block.getValue("text") instanceof String s) {
        text.append(s);
      } else if (type.equals("tool_use")) {
        Object input = block.getValue("input");
        toolCalls.add(new JsonObject()
            .put("id", block.getValue("id"))
            .put("type", "function")
            .put("function", new JsonObject()
                .put("name", block.getValue("name"))
                .put("arguments", input == null ? "{}" : Json.encode(input))));
      }
    }
    JsonObject message = new JsonObject().put("role", "assistant")
        .put("content", text.length() == 0 && !toolCalls.isEmpty() ? null : text.toString());
    if (!toolCalls.isEmpty()) {
      message.put("tool_calls", toolCalls);
    }
    Usage usage = Usage.fromAnthropic(upstream.getValue("usage"));
    JsonObject body = new JsonObject()
        .put("id", upstream.getValue("id") instanceof String id ? id : "msg")
        .put("object", "chat.completion")
        .put("created", System.currentTimeMillis() / 1000)
        .put("model", clientModel)
        .put("choices", new JsonArray().add(new JsonObject()
            .put("index", 0)
            .put("message", message)
            .putNull("logprobs")
            .put("finish_reason", FinishReasons.fromAnthropic(
                upstream.getValue("stop_reason") instanceof String r ? r : null))));
    if (usage != null) {
      body.put("usage", OpenAiUsage.toJson(usage));
    }
    return new Translated(body, usage);
  }

  @Override
  public StreamTranslator stream(StreamContext context) {
    return new AnthropicToOpenAiStream(context);
  }

  /** Encodes tool input exactly as received. */
  private static final class Json {
    static String encode(Object value) {
      return value instanceof JsonObject o ? o.encode()
          : value instanceof JsonArray a ? a.encode() : String.valueOf(value);
    }
  }
}
