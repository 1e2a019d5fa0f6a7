package io.flopex.translate.responses;

import io.flopex.translate.UnsupportedRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * Reads a Responses API request as the Chat Completions request every provider translator
 * already takes: {@code instructions} becomes the first system message, {@code input} (a string,
 * or message, {@code function_call} and {@code function_call_output} items) becomes the
 * messages, function tools become Chat Completions tools, {@code max_output_tokens} becomes
 * {@code max_completion_tokens}, {@code text.format} becomes {@code response_format} and {@code
 * reasoning.effort} becomes {@code reasoning_effort}.
 *
 * <p>Flopex keeps no conversation, so nothing here can refer to stored state: a shape it cannot
 * read throws {@link UnsupportedRequest} naming the client's field, which the caller answers with
 * a 400.
 */
public final class ResponsesToChat {

  /** Request fields copied unchanged: they mean the same in both APIs. */
  private static final List<String> COPIED = List.of("temperature", "top_p",
      "parallel_tool_calls", "user", "safety_identifier", "prompt_cache_key", "service_tier");

  private ResponsesToChat() {}

  /** The Chat Completions form of a Responses request; {@code warnings} gets what was dropped. */
  public static JsonObject toChat(JsonObject client, List<String> warnings) {
    JsonArray messages = new JsonArray();
    Object instructions = client.getValue("instructions");
    if (instructions instanceof String s && !s.isEmpty()) {
      messages.add(new JsonObject().put("role", "system").put("content", s));
    } else if (instructions != null && !(instructions instanceof String)) {
      throw new UnsupportedRequest("instructions", "'instructions' must be a string.");
    }
    Object input = client.getValue("input");
    if (input instanceof String s) {
      messages.add(new JsonObject().put("role", "user").put("content", s));
    } else if (input instanceof JsonArray items && !items.isEmpty()) {
      items(items, messages, warnings);
    } else {
      throw new UnsupportedRequest("input", input == null ? "'input' is required: a string or"
          + " an array of input items." : "'input' must be a string or a non-empty array of"
          + " input items.");
    }
    if (messages.isEmpty()) {
      throw new UnsupportedRequest("input", "'input' holds no message to answer.");
    }
    JsonObject chat = new JsonObject().put("model", client.getValue("model"))
        .put("messages", messages);
    if (Boolean.TRUE.equals(client.getValue("stream"))) {
      chat.put("stream", true);
    }
    if (client.getValue("max_output_tokens") != null) {
      chat.put("max_completion_tokens", client.getValue("max_output_tokens"));
    }
    for (String field : COPIED) {
      if (client.getValue(field) != null) {
        chat.put(field, client.getValue(field));
      }
    }
    tools(client, chat);
    text(client, chat);
    if (client.getValue("reasoning") instanceof JsonObject reasoning
        && reasoning.getValue("effort") instanceof String effort) {
      chat.put("reasoning_effort", effort);
    }
    return chat;
  }

  private static void items(JsonArray items, JsonArray messages, List<String> warnings) {
    boolean droppedReasoning = false;
    for (int i = 0; i < items.size(); i++) {
      String at = "input[" + i + "]";
      if (!(items.getValue(i) instanceof JsonObject item)) {
        throw new UnsupportedRequest(at, "'" + at + "' must be an input item object.");
      }
      Object type = item.getValue("type");
      if (type == null && item.containsKey("role")) {
        type = "message";
      }
      if (type == null && item.getValue("id") instanceof String) {
        type = "item_reference";
      }
      if (!(type instanceof String t)) {
        throw new UnsupportedRequest(at + ".type", "'" + at + ".type' is required: message,"
            + " function_call or function_call_output.");
      }
      switch (t) {
        case "message" -> message(item, at, messages);
        case "function_call" -> functionCall(item, at, messages);
        case "function_call_output" -> messages.add(new JsonObject().put("role", "tool")
            .put("tool_call_id", string(item, "call_id", at))
            .put("content", output(item.getValue("output"), at + ".output")));
        case "reasoning" -> droppedReasoning = true;
        case "item_reference" -> throw new UnsupportedRequest(at, "'" + at + "' refers to a"
            + " stored item, and Flopex stores none: send the item itself (its type and"
            + " content) instead of a reference.");
        default -> throw new UnsupportedRequest(at + ".type", "Input items of type '"
            + printable(t) + "' are not supported: send message, function_call and"
            + " function_call_output items.");
      }
    }
    if (droppedReasoning) {
      warnings.add("reasoning input items were dropped: providers accept reasoning only as"
          + " they produced it");
    }
  }

  private static void message(JsonObject item, String at, JsonArray messages) {
    Object role = item.getValue("role");
    if (!"user".equals(role) && !"assistant".equals(role) && !"system".equals(role)
        && !"developer".equals(role)) {
      throw new UnsupportedRequest(at + ".role", "'" + at + ".role' must be user, assistant,"
          + " system or developer.");
    }
    Object content = item.getValue("content");
    if (content instanceof String s) {
      messages.add(new JsonObject().put("role", role).put("content", s));
      return;
    }
    if (!(content instanceof JsonArray parts)) {
      throw new UnsupportedRequest(at + ".content", "'" + at + ".content' must be a string or"
          + " an array of content parts.");
    }
    if ("assistant".equals(role)) {
      StringBuilder text = new StringBuilder();
      for (int j = 0; j < parts.size(); j++) {
        String partAt = at + ".content[" + j + "]";
        JsonObject part = part(parts.getValue(j), partAt);
        switch (part.getString("type")) {
          case "output_text", "input_text" -> text.append(string(part, "text", partAt));
          case "refusal" -> text.append(string(part, "refusal", partAt));
          default -> throw new UnsupportedRequest(partAt + ".type", "Assistant messages may"
              + " hold output_text and refusal parts only.");
        }
      }
      messages.add(new JsonObject().put("role", "assistant").put("content", text.toString()));
      return;
    }
    JsonArray out = new JsonArray();
    for (int j = 0; j < parts.size(); j++) {
      String partAt = at + ".content[" + j + "]";
      JsonObject part = part(parts.getValue(j), partAt);
      switch (part.getString("type")) {
        case "input_text", "output_text" -> out.add(new JsonObject().put("type", "text")
            .put("text", string(part, "text", partAt)));
        case "input_image" -> {
          if (!"user".equals(role)) {
            throw new UnsupportedRequest(partAt + ".type", "Images belong in user messages.");
          }
          out.add(image(part, partAt));
        }
        case "input_file" -> throw new UnsupportedRequest(partAt + ".type", "File inputs are"
            + " not supported; send the file's text as input_text.");
        default -> throw new UnsupportedRequest(partAt + ".type", "Content parts of type '"
            + printable(part.getString("type")) + "' are not supported here: use input_text"
            + " or input_image.");
      }
    }
    messages.add(new JsonObject().put("role", role).put("content", out));
  }

  private static JsonObject part(Object raw, String at) {
    if (!(raw instanceof JsonObject part) || !(part.getValue("type") instanceof String)) {
      throw new UnsupportedRequest(at, "'" + at + "' must be a content part with a 'type'.");
    }
    return part;
  }

  private static JsonObject image(JsonObject part, String at) {
    if (part.getValue("file_id") != null) {
      throw new UnsupportedRequest(at + ".file_id", "Flopex stores no files: send the image as"
          + " 'image_url' (a data URL or an https URL).");
    }
    if (!(part.getValue("image_url") instanceof String url) || url.isBlank()) {
      throw new UnsupportedRequest(at + ".image_url", "'" + at + ".image_url' must be a data"
          + " URL or an https URL.");
    }
    JsonObject image = new JsonObject().put("url", url);
    if (part.getValue("detail") instanceof String detail && !"auto".equals(detail)) {
      image.put("detail", detail);
    }
    return new JsonObject().put("type", "image_url").put("image_url", image);
  }

  /** A function call joins the assistant turn before it, as parallel calls share one turn. */
  private static void functionCall(JsonObject item, String at, JsonArray messages) {
    Object arguments = item.getValue("arguments");
    if (!(arguments instanceof String)) {
      throw new UnsupportedRequest(at + ".arguments", "'" + at + ".arguments' must be a string"
          + " of JSON.");
    }
    JsonObject call = new JsonObject()
        .put("id", string(item, "call_id", at))
        .put("type", "function")
        .put("function", new JsonObject().put("name", string(item, "name", at))
            .put("arguments", arguments));
    JsonObject last = messages.isEmpty() ? null : messages.getJsonObject(messages.size() - 1);
    if (last != null && "assistant".equals(last.getValue("role"))
        && !(last.getValue("content") instanceof JsonArray)) {
      JsonArray calls = last.getValue("tool_calls") instanceof JsonArray c ? c : new JsonArray();
      last.put("tool_calls", calls.add(call));
      if ("".equals(last.getValue("content"))) {
        last.putNull("content");
      }
      return;
    }
    messages.add(new JsonObject().put("role", "assistant").putNull("content")
        .put("tool_calls", new JsonArray().add(call)));
  }

  private static String output(Object output, String at) {
    if (output instanceof String s) {
      return s;
    }
    if (output instanceof JsonArray parts) {
      StringBuilder text = new StringBuilder();
      for (int j = 0; j < parts.size(); j++) {
        JsonObject part = part(parts.getValue(j), at + "[" + j + "]");
        if (!"input_text".equals(part.getValue("type"))) {
          throw new UnsupportedRequest(at + "[" + j + "].type", "Function call outputs may hold"
              + " input_text parts only.");
        }
        text.append(string(part, "text", at + "[" + j + "]"));
      }
      return text.toString();
    }
    throw new UnsupportedRequest(at, "'" + at + "' must be a string or an array of input_text"
        + " parts.");
  }

  private static void tools(JsonObject client, JsonObject chat) {
    Object raw = client.getValue("tools");
    if (raw instanceof JsonArray tools && !tools.isEmpty()) {
      JsonArray functions = new JsonArray();
      for (int i = 0; i < tools.size(); i++) {
        String at = "tools[" + i + "]";
        if (!(tools.getValue(i) instanceof JsonObject tool)) {
          throw new UnsupportedRequest(at, "'" + at + "' must be a tool object.");
        }
        Object type = tool.getValue("type");
        if (!"function".equals(type)) {
          throw new UnsupportedRequest(at + ".type", "Only function tools are supported;"
              + " '" + (type instanceof String t ? printable(t) : String.valueOf(type)) + "' is a"
              + " tool that only OpenAI's own servers can run. Declare it as a function and run"
              + " it yourself.");
        }
        JsonObject function = new JsonObject().put("name", string(tool, "name", at));
        if (tool.getValue("description") instanceof String d) {
          function.put("description", d);
        }
        Object parameters = tool.getValue("parameters");
        if (parameters != null && !(parameters instanceof JsonObject)) {
          throw new UnsupportedRequest(at + ".parameters", "'" + at + ".parameters' must be a"
              + " JSON Schema object.");
        }
        function.put("parameters", parameters != null ? parameters
            : new JsonObject().put("type", "object").put("properties", new JsonObject()));
        if (tool.getValue("strict") instanceof Boolean strict) {
          function.put("strict", strict);
        }
        functions.add(new JsonObject().put("type", "function").put("function", function));
      }
      chat.put("tools", functions);
    } else if (raw != null && !(raw instanceof JsonArray)) {
      throw new UnsupportedRequest("tools", "'tools' must be an array of function tools.");
    }
    Object choice = client.getValue("tool_choice");
    if (choice instanceof String mode) {
      if (!List.of("auto", "none", "required").contains(mode)) {
        throw new UnsupportedRequest("tool_choice", "'tool_choice' must be auto, none, required"
            + " or {\"type\":\"function\",\"name\":...}.");
      }
      chat.put("tool_choice", mode);
    } else if (choice instanceof JsonObject o) {
      if (!"function".equals(o.getValue("type")) || !(o.getValue("name") instanceof String n)) {
        throw new UnsupportedRequest("tool_choice", "'tool_choice' may name a function tool"
            + " only: {\"type\":\"function\",\"name\":...}.");
      }
      chat.put("tool_choice", new JsonObject().put("type", "function")
          .put("function", new JsonObject().put("name", n)));
    } else if (choice != null) {
      throw new UnsupportedRequest("tool_choice", "'tool_choice' must be a string or an"
          + " object.");
    }
  }

  private static void text(JsonObject client, JsonObject chat) {
    Object raw = client.getValue("text");
    if (raw == null) {
      return;
    }
    if (!(raw instanceof JsonObject text)) {
      throw new UnsupportedRequest("text", "'text' must be an object.");
    }
    if (text.getValue("verbosity") instanceof String verbosity) {
      chat.put("verbosity", verbosity);
    }
    Object rawFormat = text.getValue("format");
    if (rawFormat == null) {
      return;
    }
    if (!(rawFormat instanceof JsonObject format)) {
      throw new UnsupportedRequest("text.format", "'text.format' must be an object.");
    }
    Object type = format.getValue("type");
    if ("text".equals(type)) {
      return;
    }
    if ("json_object".equals(type)) {
      chat.put("response_format", new JsonObject().put("type", "json_object"));
      return;
    }
    if (!"json_schema".equals(type)) {
      throw new UnsupportedRequest("text.format.type", "'text.format.type' must be text,"
          + " json_object or json_schema.");
    }
    if (!(format.getValue("schema") instanceof JsonObject schema)) {
      throw new UnsupportedRequest("text.format.schema", "'text.format.schema' must be a JSON"
          + " Schema object.");
    }
    JsonObject jsonSchema = new JsonObject()
        .put("name", string(format, "name", "text.format"))
        .put("schema", schema);
    if (format.getValue("description") instanceof String d) {
      jsonSchema.put("description", d);
    }
    if (format.getValue("strict") instanceof Boolean strict) {
      jsonSchema.put("strict", strict);
    }
    chat.put("response_format", new JsonObject().put("type", "json_schema")
        .put("json_schema", jsonSchema));
  }

  private static String string(JsonObject o, String field, String at) {
    if (!(o.getValue(field) instanceof String s)) {
      throw new UnsupportedRequest(at + "." + field, "'" + at + "." + field + "' must be a"
          + " string.");
    }
    return s;
  }

  private static String printable(String value) {
    String cleaned = value.replaceAll("[^A-Za-z0-9_.-]", "?");
    return cleaned.length() > 64 ? cleaned.substring(0, 64) + "..." : cleaned;
  }
}
