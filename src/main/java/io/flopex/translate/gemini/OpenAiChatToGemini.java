package io.flopex.translate.gemini;

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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * OpenAI Chat Completions client to Google's Gemini API.
 *
 * <p>System and developer messages become {@code systemInstruction}; assistant turns become
 * {@code model} turns, their tool calls {@code functionCall} parts; tool replies become {@code
 * functionResponse} parts named after the call they answer. {@code n} becomes {@code
 * candidateCount}. Gemini's thought parts are not passed on, and its reasoning tokens are part of
 * the completion tokens, as in OpenAI's usage.
 */
public final class OpenAiChatToGemini implements Translator {

  private static final Set<String> DROPPED = Set.of("logit_bias", "logprobs", "top_logprobs",
      "functions", "function_call",
      "service_tier", "store", "metadata", "modalities", "audio", "prediction",
      "web_search_options", "verbosity", "prompt_cache_key", "safety_identifier",
      "reasoning_effort", "user", "parallel_tool_calls");

  @Override
  public JsonObject request(JsonObject client, String upstreamModel, boolean stream,
      List<String> warnings) {
    JsonArray system = new JsonArray();
    JsonArray contents = new JsonArray();
    Map<String, String> toolNames = new HashMap<>();
    JsonArray messages = client.getJsonArray("messages");
    for (int i = 0; i < messages.size(); i++) {
      JsonObject message = messages.getJsonObject(i);
      String at = "messages[" + i + "]";
      switch (message.getString("role")) {
        case "system", "developer" -> textParts(message.getValue("content"), at, system);
        case "user" -> Turns.append(contents, "user", "parts",
            userParts(message.getValue("content"), at));
        case "assistant" -> Turns.append(contents, "model", "parts",
            modelParts(message, at, toolNames));
        case "tool", "function" -> Turns.append(contents, "user", "parts",
            new JsonArray().add(functionResponse(message, at, toolNames)));
        default -> throw new UnsupportedRequest(at + ".role", "Unknown role.");
      }
    }
    if (contents.isEmpty()) {
      throw new UnsupportedRequest("messages", "Gemini needs at least one user or assistant"
          + " message besides the system prompt.");
    }
    JsonObject body = new JsonObject().put("contents", contents);
    if (!system.isEmpty()) {
      body.put("systemInstruction", new JsonObject().put("parts", system));
    }
    JsonObject config = generationConfig(client, warnings);
    if (!config.isEmpty()) {
      body.put("generationConfig", config);
    }
    tools(client, body);
    for (String field : DROPPED) {
      if (client.containsKey(field)) {
        warnings.add("'" + field + "' is not supported by this provider and was dropped");
      }
    }
    return body;
  }

  private static JsonObject generationConfig(JsonObject client, List<String> warnings) {
    JsonObject config = new JsonObject();
    if (client.getValue("max_completion_tokens") instanceof Number n) {
      config.put("maxOutputTokens", n);
    } else if (client.getValue("max_tokens") instanceof Number n) {
      config.put("maxOutputTokens", n);
    }
    copy(client, "temperature", config, "temperature");
    copy(client, "top_p", config, "topP");
    copy(client, "seed", config, "seed");
    copy(client, "presence_penalty", config, "presencePenalty");
    copy(client, "frequency_penalty", config, "frequencyPenalty");
    if (client.getValue("n") instanceof Number n && n.intValue() > 1) {
      config.put("candidateCount", n);
    }
    Object stop = client.getValue("stop");
    if (stop instanceof String s) {
      config.put("stopSequences", new JsonArray().add(s));
    } else if (stop instanceof JsonArray a && !a.isEmpty()) {
      config.put("stopSequences", a.copy());
    }
    if (client.getValue("response_format") instanceof JsonObject format) {
      String type = format.getValue("type") instanceof String t ? t : "";
      switch (type) {
        case "json_object" -> config.put("responseMimeType", "application/json");
        case "json_schema" -> {
          config.put("responseMimeType", "application/json");
          if (format.getValue("json_schema") instanceof JsonObject js
              && js.getValue("schema") instanceof JsonObject schema) {
            config.put("responseJsonSchema", schema);
          }
        }
        case "text" -> { }
        default -> throw new UnsupportedRequest("response_format.type", "Unknown response"
            + " format '" + type + "'.");
      }
    }
    return config;
  }

  private static void copy(JsonObject from, String field, JsonObject to, String as) {
    if (from.getValue(field) instanceof Number n) {
      to.put(as, n);
    }
  }

  private static void textParts(Object content, String at, JsonArray into) {
    if (content instanceof String s) {
      if (!s.isEmpty()) {
        into.add(new JsonObject().put("text", s));
      }
    } else if (content instanceof JsonArray parts) {
      for (int i = 0; i < parts.size(); i++) {
        String s = Turns.partText(parts.getValue(i));
        if (s == null) {
          throw new UnsupportedRequest(at + ".content[" + i + "]", "Only text parts are"
              + " accepted here.");
        }
        if (!s.isEmpty()) {
          into.add(new JsonObject().put("text", s));
        }
      }
    }
  }

  private static JsonArray userParts(Object content, String at) {
    JsonArray parts = new JsonArray();
    if (content instanceof String s) {
      if (!s.isEmpty()) {
        parts.add(new JsonObject().put("text", s));
      }
      return parts;
    }
    if (!(content instanceof JsonArray input)) {
      return parts;
    }
    for (int i = 0; i < input.size(); i++) {
      String partAt = at + ".content[" + i + "]";
      if (!(input.getValue(i) instanceof JsonObject part)) {
        throw new UnsupportedRequest(partAt, "A content part must be an object.");
      }
      String type = part.getValue("type") instanceof String t ? t : "";
      switch (type) {
        case "text" -> {
          if (part.getValue("text") instanceof String s && !s.isEmpty()) {
            parts.add(new JsonObject().put("text", s));
          }
        }
        case "image_url" -> parts.add(image(part, partAt));
        default -> throw new UnsupportedRequest(partAt + ".type", "Content parts of type '"
            + type + "' cannot be sent to this provider.");
      }
    }
    return parts;
  }

  private static JsonObject image(JsonObject part, String at) {
    Turns.DataUrl data = Turns.dataUrl(Turns.imageUrl(part));
    if (data != null) {
      return new JsonObject().put("inlineData", new JsonObject()
          .put("mimeType", data.mediaType())
          .put("data", data.data()));
    }
    throw new UnsupportedRequest(at + ".image_url.url", "This provider takes images as base64"
        + " data URLs only.");
  }

  private static JsonArray modelParts(JsonObject message, String at,
      Map<String, String> toolNames) {
    JsonArray parts = new JsonArray();
    Object content = message.getValue("content");
    if (content instanceof String s && !s.isEmpty()) {
      parts.add(new JsonObject().put("text", s));
    } else if (content instanceof JsonArray) {
      textParts(content, at, parts);
    }
    if (message.getValue("tool_calls") instanceof JsonArray calls) {
      for (int i = 0; i < calls.size(); i++) {
        String callAt = at + ".tool_calls[" + i + "]";
        if (!(calls.getValue(i) instanceof JsonObject call)
            || !(call.getValue("function") instanceof JsonObject function)
            || !(function.getValue("name") instanceof String name)) {
          throw new UnsupportedRequest(callAt, "A tool call needs a function with a name.");
        }
        if (call.getValue("id") instanceof String id) {
          toolNames.put(id, name);
        }
        parts.add(new JsonObject().put("functionCall", new JsonObject().put("name", name)
            .put("args", Turns.arguments(function.getValue("arguments"), callAt))));
      }
    }
    return parts;
  }

  private static JsonObject functionResponse(JsonObject message, String at,
      Map<String, String> toolNames) {
    Object id = message.getValue("tool_call_id");
    String name = id instanceof String s ? toolNames.get(s) : null;
    if (name == null && message.getValue("name") instanceof String n) {
      name = n;
    }
    if (name == null) {
      throw new UnsupportedRequest(at + ".tool_call_id", "A tool reply must answer a tool call"
          + " made earlier in the conversation.");
    }
    JsonArray textParts = new JsonArray();
    textParts(message.getValue("content"), at, textParts);
    StringBuilder text = new StringBuilder();
    textParts.forEach(p -> text.append(((JsonObject) p).getString("text")));
    return new JsonObject().put("functionResponse", new JsonObject().put("name", name)
        .put("response", new JsonObject().put("content", text.toString())));
  }

  private static void tools(JsonObject client, JsonObject body) {
    if (client.getValue("tools") instanceof JsonArray tools && !tools.isEmpty()) {
      JsonArray declarations = new JsonArray();
      for (int i = 0; i < tools.size(); i++) {
        if (!(tools.getValue(i) instanceof JsonObject tool)
            || !(tool.getValue("function") instanceof JsonObject function)
            || !(function.getValue("name") instanceof String name)) {
          throw new UnsupportedRequest("tools[" + i + "]", "Only function tools with a name are"
              + " supported.");
        }
        JsonObject declaration = new JsonObject().put("name", name);
        if (function.getValue("description") instanceof String d) {
          declaration.put("description", d);
        }
        if (function.getValue("parameters") instanceof JsonObject p) {
          declaration.put("parametersJsonSchema", p);
        }
        declarations.add(declaration);
      }
      body.put("tools", new JsonArray().add(new JsonObject()
          .put("functionDeclarations", declarations)));
    }
    Object choice = client.getValue("tool_choice");
    JsonObject config = null;
    if ("auto".equals(choice)) {
      config = new JsonObject().put("mode", "AUTO");
    } else if ("none".equals(choice)) {
      config = new JsonObject().put("mode", "NONE");
    } else if ("required".equals(choice)) {
      config = new JsonObject().put("mode", "ANY");
    } else if (choice instanceof JsonObject o && o.getValue("function") instanceof JsonObject f
        && f.getValue("name") instanceof String name) {
      config = new JsonObject().put("mode", "ANY")
          .put("allowedFunctionNames", new JsonArray().add(name));
    } else if (choice != null) {
      throw new UnsupportedRequest("tool_choice", "'tool_choice' must be auto, none, required"
          + " or a function.");
    }
    if (config != null) {
      body.put("toolConfig", new JsonObject().put("functionCallingConfig", config));
    }
  }

  @Override
  public Translated response(JsonObject upstream, String clientModel) {
    JsonArray candidates = upstream.getValue("candidates") instanceof JsonArray a ? a
        : new JsonArray();
    boolean blocked = upstream.getValue("promptFeedback") instanceof JsonObject f
        && f.getValue("blockReason") != null;
    if (candidates.isEmpty() && !blocked) {
      return null;
    }
    JsonArray choices = new JsonArray();
    String callPrefix = "call_" + UUID.randomUUID().toString().substring(0, 8) + "_";
    int callCounter = 0;
    for (int i = 0; i < candidates.size(); i++) {
      JsonObject candidate = candidates.getJsonObject(i);
      StringBuilder text = new StringBuilder();
      JsonArray toolCalls = new JsonArray();
      JsonArray parts = candidate.getJsonObject("content", new JsonObject())
          .getJsonArray("parts", new JsonArray());
      for (Object p : parts) {
        if (!(p instanceof JsonObject part) || Boolean.TRUE.equals(part.getValue("thought"))) {
          continue;
        }
        if (part.getValue("text") instanceof String s) {
          text.append(s);
        } else if (part.getValue("functionCall") instanceof JsonObject call) {
          toolCalls.add(toolCall(call, callPrefix + callCounter++));
        }
      }
      JsonObject message = new JsonObject().put("role", "assistant")
          .put("content", text.length() == 0 && !toolCalls.isEmpty() ? null : text.toString());
      if (!toolCalls.isEmpty()) {
        message.put("tool_calls", toolCalls);
      }
      choices.add(new JsonObject()
          .put("index", candidate.getValue("index") instanceof Number n ? n.intValue() : i)
          .put("message", message)
          .putNull("logprobs")
          .put("finish_reason", FinishReasons.fromGemini(
              candidate.getValue("finishReason") instanceof String r ? r : null,
              !toolCalls.isEmpty())));
    }
    if (choices.isEmpty()) {
      choices.add(new JsonObject().put("index", 0)
          .put("message", new JsonObject().put("role", "assistant").put("content", ""))
          .putNull("logprobs")
          .put("finish_reason", "content_filter"));
    }
    Usage usage = usage(upstream.getValue("usageMetadata"));
    JsonObject body = new JsonObject()
        .put("id", "chatcmpl-" + (upstream.getValue("responseId") instanceof String id ? id
            : "gemini"))
        .put("object", "chat.completion")
        .put("created", System.currentTimeMillis() / 1000)
        .put("model", clientModel)
        .put("choices", choices);
    if (usage != null) {
      body.put("usage", OpenAiUsage.toJson(usage));
    }
    return new Translated(body, usage);
  }

  /** A Gemini function call as an OpenAI tool call; Gemini's own id when it gave one. */
  static JsonObject toolCall(JsonObject call, String fallbackId) {
    Object args = call.getValue("args");
    return new JsonObject()
        .put("id", call.getValue("id") instanceof String id ? id : fallbackId)
        .put("type", "function")
        .put("function", new JsonObject()
            .put("name", call.getValue("name"))
            .put("arguments", args instanceof JsonObject o ? o.encode() : "{}"));
  }

  /**
   * Gemini counts thinking apart from the answer; in OpenAI's view both are completion tokens,
   * and the thinking is their reasoning part.
   */
  static Usage usage(Object raw) {
    if (!(raw instanceof JsonObject u)) {
      return null;
    }
    long prompt = number(u, "promptTokenCount");
    long thoughts = number(u, "thoughtsTokenCount");
    long completion = number(u, "candidatesTokenCount") + thoughts;
    long cached = Math.min(number(u, "cachedContentTokenCount"), prompt);
    return new Usage(prompt, completion, cached, 0, thoughts, false);
  }

  private static long number(JsonObject o, String field) {
    return o.getValue(field) instanceof Number n ? Math.max(0, n.longValue()) : 0;
  }

  @Override
  public StreamTranslator stream(StreamContext context) {
    return new GeminiToOpenAiStream(context);
  }
}
