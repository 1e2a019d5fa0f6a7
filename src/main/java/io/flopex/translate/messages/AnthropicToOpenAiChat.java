package io.flopex.translate.messages;

import io.flopex.bus.Usage;
import io.flopex.translate.StreamTranslator;
import io.flopex.translate.Translated;
import io.flopex.translate.Translator;
import io.flopex.translate.UnsupportedRequest;
import io.flopex.translate.openai.OpenAiChatPassThrough;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Set;

/**
 * Anthropic Messages client to an OpenAI-format provider.
 *
 * <p>The {@code system} prompt becomes a system message; {@code tool_use} blocks become tool
 * calls and {@code tool_result} blocks tool messages, placed right after the call they answer;
 * images become {@code image_url} parts. Thinking blocks are dropped: their signatures can only
 * be checked by Anthropic. The answer comes back as an Anthropic message, and a stream as
 * Anthropic's events.
 */
public final class AnthropicToOpenAiChat implements Translator {

  private final OpenAiChatPassThrough openAi;
  private static final Set<String> DROPPED = Set.of("top_k", "thinking", "service_tier",
      "container", "mcp_servers");

  /** @param openAi whether the provider is OpenAI itself rather than a host copying its API */
  public AnthropicToOpenAiChat(boolean openAi) {
    this.openAi = new OpenAiChatPassThrough(openAi);
  }

  @Override
  public JsonObject request(JsonObject client, String upstreamModel, boolean stream,
      List<String> warnings) {
    return openAi.request(toOpenAiChat(client, warnings), upstreamModel, stream, warnings);
  }

  /** The same request in OpenAI's Chat Completions format, still under the client's model. */
  static JsonObject toOpenAiChat(JsonObject client, List<String> warnings) {
    JsonArray messages = new JsonArray();
    Object system = client.getValue("system");
    if (system instanceof String s && !s.isEmpty()) {
      messages.add(new JsonObject().put("role", "system").put("content", s));
    } else if (system instanceof JsonArray blocks && !blocks.isEmpty()) {
      JsonArray parts = new JsonArray();
      for (int i = 0; i < blocks.size(); i++) {
        if (blocks.getValue(i) instanceof JsonObject b && b.getValue("text") instanceof String t) {
          parts.add(new JsonObject().put("type", "text").put("text", t));
        } else {
          throw new UnsupportedRequest("system[" + i + "]", "Only text blocks are accepted in"
              + " 'system'.");
        }
      }
      messages.add(new JsonObject().put("role", "system").put("content", parts));
    }
    boolean droppedThinking = false;
    JsonArray input = client.getJsonArray("messages");
    for (int i = 0; i < input.size(); i++) {
      JsonObject message = input.getJsonObject(i);
      String at = "messages[" + i + "]";
      String role = message.getString("role");
      Object content = message.getValue("content");
      if (content instanceof String s) {
        messages.add(new JsonObject().put("role", role).put("content", s));
        continue;
      }
      JsonArray blocks = (JsonArray) content;
      if (role.equals("assistant")) {
        droppedThinking |= assistant(blocks, at, messages);
      } else {
        user(blocks, at, messages);
      }
    }
    if (droppedThinking) {
      warnings.add("thinking blocks were dropped: only Anthropic can check their signatures");
    }
    JsonObject out = new JsonObject()
        .put("model", client.getString("model"))
        .put("messages", messages)
        .put("max_tokens", client.getValue("max_tokens"));
    for (String field : new String[] {"temperature", "top_p"}) {
      if (client.getValue(field) instanceof Number n) {
        out.put(field, n);
      }
    }
    if (client.getValue("stop_sequences") instanceof JsonArray stops && !stops.isEmpty()) {
      out.put("stop", stops.copy());
    }
    tools(client, out);
    if (client.getValue("metadata") instanceof JsonObject metadata
        && metadata.getValue("user_id") instanceof String user) {
      out.put("user", user);
    }
    for (String field : DROPPED) {
      if (client.containsKey(field)) {
        warnings.add("'" + field + "' is not supported by this provider and was dropped");
      }
    }
    return out;
  }

  private static boolean assistant(JsonArray blocks, String at, JsonArray messages) {
    StringBuilder text = new StringBuilder();
    JsonArray calls = new JsonArray();
    boolean droppedThinking = false;
    for (int j = 0; j < blocks.size(); j++) {
      JsonObject block = blocks.getJsonObject(j);
      String type = block.getValue("type") instanceof String t ? t : "";
      switch (type) {
        case "text" -> text.append(block.getString("text", ""));
        case "tool_use" -> calls.add(new JsonObject()
            .put("id", block.getValue("id"))
            .put("type", "function")
            .put("function", new JsonObject().put("name", block.getValue("name"))
                .put("arguments", block.getValue("input") instanceof JsonObject o ? o.encode()
                    : "{}")));
        case "thinking", "redacted_thinking" -> droppedThinking = true;
        default -> throw new UnsupportedRequest(at + ".content[" + j + "].type", "Blocks of type '"
            + type + "' cannot be sent to this provider.");
      }
    }
    JsonObject message = new JsonObject().put("role", "assistant")
        .put("content", text.length() == 0 && !calls.isEmpty() ? null : text.toString());
    if (!calls.isEmpty()) {
      message.put("tool_calls", calls);
    }
    messages.add(message);
    return droppedThinking;
  }

  private static void user(JsonArray blocks, String at, JsonArray messages) {
    JsonArray parts = new JsonArray();
    for (int j = 0; j < blocks.size(); j++) {
      JsonObject block = blocks.getJsonObject(j);
      String blockAt = at + ".content[" + j + "]";
      String type = block.getValue("type") instanceof String t ? t : "";
      switch (type) {
        case "text" -> parts.add(new JsonObject().put("type", "text")
            .put("text", block.getString("text", "")));
        case "image" -> parts.add(image(block, blockAt));
        case "tool_result" -> messages.add(new JsonObject().put("role", "tool")
            .put("tool_call_id", block.getValue("tool_use_id"))
            .put("content", resultText(block.getValue("content"), blockAt)));
        default -> throw new UnsupportedRequest(blockAt + ".type", "Blocks of type '" + type
            + "' cannot be sent to this provider.");
      }
    }
    if (!parts.isEmpty()) {
      messages.add(new JsonObject().put("role", "user").put("content", parts));
    }
  }

  private static JsonObject image(JsonObject block, String at) {
    JsonObject source = block.getJsonObject("source", new JsonObject());
    String url = switch (source.getString("type", "")) {
      case "base64" -> "data:" + source.getString("media_type", "image/png") + ";base64,"
          + source.getString("data", "");
      case "url" -> source.getString("url");
      default -> null;
    };
    if (url == null) {
      throw new UnsupportedRequest(at + ".source", "An image needs a base64 or url source.");
    }
    return new JsonObject().put("type", "image_url")
        .put("image_url", new JsonObject().put("url", url));
  }

  private static String resultText(Object content, String at) {
    if (content == null || content instanceof String) {
      return content == null ? "" : (String) content;
    }
    StringBuilder text = new StringBuilder();
    for (Object b : (JsonArray) content) {
      if (b instanceof JsonObject block && "text".equals(block.getValue("type"))) {
        text.append(block.getString("text", ""));
      } else {
        throw new UnsupportedRequest(at + ".content", "Tool results sent to this provider may"
            + " hold text only.");
      }
    }
    return text.toString();
  }

  private static void tools(JsonObject client, JsonObject out) {
    if (client.getValue("tools") instanceof JsonArray tools && !tools.isEmpty()) {
      JsonArray functions = new JsonArray();
      for (int i = 0; i < tools.size(); i++) {
        JsonObject tool = tools.getJsonObject(i);
        if (!(tool.getValue("name") instanceof String name)) {
          throw new UnsupportedRequest("tools[" + i + "].name", "A tool needs a name.");
        }
        JsonObject function = new JsonObject().put("name", name)
            .put("parameters", tool.getValue("input_schema") instanceof JsonObject schema
                ? schema : new JsonObject().put("type", "object"));
        if (tool.getValue("description") instanceof String d) {
          function.put("description", d);
        }
        functions.add(new JsonObject().put("type", "function").put("function", function));
      }
      out.put("tools", functions);
    }
    if (client.getValue("tool_choice") instanceof JsonObject choice) {
      switch (choice.getString("type", "auto")) {
        case "any" -> out.put("tool_choice", "required");
        case "none" -> out.put("tool_choice", "none");
        case "tool" -> out.put("tool_choice", new JsonObject().put("type", "function")
            .put("function", new JsonObject().put("name", choice.getValue("name"))));
        default -> out.put("tool_choice", "auto");
      }
      if (Boolean.TRUE.equals(choice.getValue("disable_parallel_tool_use"))) {
        out.put("parallel_tool_calls", false);
      }
    }
  }

  @Override
  public Translated response(JsonObject upstream, String clientModel) {
    Translated answer = openAi.response(upstream, clientModel);
    return answer == null ? null : toAnthropic(answer, clientModel);
  }

  /** An OpenAI chat completion as an Anthropic message. */
  static Translated toAnthropic(Translated openAi, String clientModel) {
    JsonObject choice = openAi.body().getJsonArray("choices").getJsonObject(0);
    JsonObject message = choice.getValue("message") instanceof JsonObject m ? m
        : new JsonObject();
    JsonArray content = new JsonArray();
    boolean refused = message.getValue("refusal") instanceof String r && !r.isEmpty();
    String text = refused ? message.getString("refusal")
        : message.getValue("content") instanceof String s ? s : "";
    if (!text.isEmpty()) {
      content.add(new JsonObject().put("type", "text").put("text", text));
    }
    if (message.getValue("tool_calls") instanceof JsonArray calls) {
      for (Object c : calls) {
        if (!(c instanceof JsonObject call)) {
          continue;
        }
        JsonObject function = call.getValue("function") instanceof JsonObject f ? f
            : new JsonObject();
        content.add(new JsonObject().put("type", "tool_use")
            .put("id", call.getValue("id"))
            .put("name", function.getValue("name"))
            .put("input", OpenAiChunksToAnthropic.input(function.getValue("arguments"))));
      }
    }
    Usage usage = openAi.usage();
    Object id = openAi.body().getValue("id");
    JsonObject body = new JsonObject()
        .put("id", "msg_" + (id == null ? "flopex" : id))
        .put("type", "message")
        .put("role", "assistant")
        .put("model", clientModel)
        .put("content", content)
        .put("stop_reason", refused ? "refusal" : OpenAiChunksToAnthropic.stopReason(
            choice.getValue("finish_reason") instanceof String f ? f : null))
        .putNull("stop_sequence")
        .put("usage", OpenAiChunksToAnthropic.usageJson(usage == null ? Usage.NONE : usage));
    return new Translated(body, usage);
  }

  @Override
  public StreamTranslator stream(StreamContext context) {
    return new OpenAiChunksToAnthropic(context, null);
  }
}
