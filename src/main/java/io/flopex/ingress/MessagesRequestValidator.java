package io.flopex.ingress;

import io.flopex.bus.Failure;
import io.flopex.translate.ClientFormat;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks an Anthropic Messages request before anything is sent upstream. The same field policy
 * as {@link ChatRequestValidator}: Messages API fields are checked and forwarded, fields that
 * would redirect Flopex are refused naming them, anything else is dropped with a warning.
 */
final class MessagesRequestValidator {

  static final Set<String> FORWARDED = Set.of("model", "messages", "system", "max_tokens",
      "stream", "temperature", "top_p", "top_k", "stop_sequences", "tools", "tool_choice",
      "metadata", "thinking", "service_tier");

  private MessagesRequestValidator() {}

  static ChatRequestValidator.Validated validate(Buffer raw) {
    Object parsed;
    try {
      parsed = raw == null || raw.length() == 0 ? null : raw.toJsonValue();
    } catch (DecodeException e) {
      throw new ApiError(Failure.INVALID_JSON, "The request body is not valid JSON.", null);
    }
    if (!(parsed instanceof JsonObject body)) {
      throw new ApiError(Failure.INVALID_JSON, "The request body must be a JSON object with"
          + " 'model', 'max_tokens' and 'messages'.", null);
    }
    Map<String, Object> forwarded = new LinkedHashMap<>();
    List<String> warnings = new ArrayList<>();
    for (Map.Entry<String, Object> field : body) {
      String name = field.getKey();
      if (ChatRequestValidator.REFUSED.contains(name)) {
        throw new ApiError(Failure.INVALID_REQUEST, name + ": not accepted; Flopex sends"
            + " requests only to the providers it is configured with.", name);
      }
      if (FORWARDED.contains(name)) {
        forwarded.put(name, field.getValue());
      } else {
        warnings.add("unsupported field '" + ChatRequestValidator.printable(name)
            + "' was dropped");
      }
    }
    ChatRequestValidator.capWarnings(warnings);
    JsonObject request = new JsonObject(forwarded);
    ChatRequestValidator.checkModel(request);
    ChatRequestValidator.checkFinite(request);
    Object max = request.getValue("max_tokens");
    if (!(max instanceof Integer || max instanceof Long) || ((Number) max).longValue() < 1) {
      throw new ApiError(Failure.INVALID_REQUEST, max == null ? "max_tokens: Field required"
          : "max_tokens: must be a positive integer", "max_tokens");
    }
    messages(request);
    Object system = request.getValue("system");
    if (system != null && !(system instanceof String) && !(system instanceof JsonArray)) {
      throw new ApiError(Failure.INVALID_REQUEST, "system: must be a string or an array of"
          + " text blocks", "system");
    }
    if (request.containsKey("stream") && !(request.getValue("stream") instanceof Boolean)) {
      throw new ApiError(Failure.INVALID_REQUEST, "stream: must be a boolean", "stream");
    }
    range(request, "temperature", 1);
    range(request, "top_p", 1);
    if (request.containsKey("stop_sequences")
        && !(request.getValue("stop_sequences") instanceof JsonArray)) {
      throw new ApiError(Failure.INVALID_REQUEST, "stop_sequences: must be an array of strings",
          "stop_sequences");
    }
    if (request.containsKey("tools") && !(request.getValue("tools") instanceof JsonArray)) {
      throw new ApiError(Failure.INVALID_REQUEST, "tools: must be an array", "tools");
    }
    if (request.containsKey("tool_choice")
        && !(request.getValue("tool_choice") instanceof JsonObject)) {
      throw new ApiError(Failure.INVALID_REQUEST, "tool_choice: must be an object",
          "tool_choice");
    }
    thinking(request);
    return new ChatRequestValidator.Validated(request, List.copyOf(warnings),
        ClientFormat.ANTHROPIC_MESSAGES);
  }

  private static void messages(JsonObject request) {
    if (!(request.getValue("messages") instanceof JsonArray messages) || messages.isEmpty()) {
      throw new ApiError(Failure.INVALID_REQUEST, "messages: must be a non-empty array",
          "messages");
    }
    for (int i = 0; i < messages.size(); i++) {
      String at = "messages." + i;
      if (!(messages.getValue(i) instanceof JsonObject message)) {
        throw new ApiError(Failure.INVALID_REQUEST, at + ": must be an object", at);
      }
      Object role = message.getValue("role");
      if (!"user".equals(role) && !"assistant".equals(role)) {
        throw new ApiError(Failure.INVALID_REQUEST, at + ".role: must be 'user' or 'assistant'",
            at + ".role");
      }
      Object content = message.getValue("content");
      if (content instanceof JsonArray blocks) {
        for (int j = 0; j < blocks.size(); j++) {
          if (!(blocks.getValue(j) instanceof JsonObject block)
              || !(block.getValue("type") instanceof String)) {
            throw new ApiError(Failure.INVALID_REQUEST, at + ".content." + j + ": must be a"
                + " block with a 'type'", at + ".content." + j);
          }
        }
      } else if (!(content instanceof String)) {
        throw new ApiError(Failure.INVALID_REQUEST, at + ".content: must be a string or an"
            + " array of blocks", at + ".content");
      }
    }
  }

  private static void range(JsonObject request, String field, double max) {
    Object value = request.getValue(field);
    if (value != null && (!(value instanceof Number n) || n.doubleValue() < 0
        || n.doubleValue() > max)) {
      throw new ApiError(Failure.INVALID_REQUEST, field + ": must be a number from 0 to " + max,
          field);
    }
  }

  /** A thinking budget must leave room for the answer within {@code max_tokens}. */
  private static void thinking(JsonObject request) {
    if (!(request.getValue("thinking") instanceof JsonObject thinking)) {
      return;
    }
    if ("enabled".equals(thinking.getValue("type"))) {
      Object budget = thinking.getValue("budget_tokens");
      long max = ((Number) request.getValue("max_tokens")).longValue();
      if (!(budget instanceof Integer || budget instanceof Long)
          || ((Number) budget).longValue() < 1 || ((Number) budget).longValue() >= max) {
        throw new ApiError(Failure.INVALID_REQUEST, "thinking.budget_tokens: must be a positive"
            + " integer below max_tokens", "thinking.budget_tokens");
      }
    }
  }
}
