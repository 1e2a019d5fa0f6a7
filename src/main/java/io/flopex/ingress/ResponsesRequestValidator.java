package io.flopex.ingress;

import io.flopex.bus.Failure;
import io.flopex.bus.ProviderPreferences;
import io.flopex.translate.ClientFormat;
import io.flopex.translate.UnsupportedRequest;
import io.flopex.translate.responses.ResponsesToChat;
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
 * Checks an OpenAI Responses request and reads it into the Chat Completions request that is
 * routed, metered and translated for each provider like any other. The same field policy as
 * {@link ChatRequestValidator}; besides, Flopex keeps no conversation, so what needs stored state
 * ({@code previous_response_id}, {@code conversation}, item references, {@code background}
 * runs, stored {@code prompt} templates) is refused with a 400 saying what to send instead.
 */
final class ResponsesRequestValidator {

  static final Set<String> ACCEPTED = Set.of("model", "input", "instructions", "stream",
      "max_output_tokens", "temperature", "top_p", "tools", "tool_choice", "parallel_tool_calls",
      "text", "reasoning", "user", "safety_identifier", "prompt_cache_key", "service_tier",
      "metadata", "store", "background", "truncation", "stream_options", "include");

  /** Fields that only make sense against state kept by the server, and why each is refused. */
  private static final Map<String, String> STATEFUL = Map.of(
      "previous_response_id", "Flopex keeps no conversation, so there is no earlier response to"
          + " continue: send the whole conversation as 'input' items (the earlier input, then"
          + " the output items you received) instead.",
      "conversation", "Flopex keeps no conversation objects: send the whole conversation as"
          + " 'input' items instead.",
      "prompt", "Flopex keeps no prompt templates: send the prompt as 'instructions' and"
          + " 'input' instead.");

  private ResponsesRequestValidator() {}

  static ChatRequestValidator.Validated validate(Buffer raw) {
    Object parsed;
    try {
      parsed = raw == null || raw.length() == 0 ? null : raw.toJsonValue();
    } catch (DecodeException e) {
      throw new ApiError(Failure.INVALID_JSON, "The request body is not valid JSON.", null);
    }
    if (!(parsed instanceof JsonObject body)) {
      throw new ApiError(Failure.INVALID_JSON, "The request body must be a JSON object with"
          + " 'model' and 'input'.", null);
    }
    Map<String, Object> accepted = new LinkedHashMap<>();
    List<String> warnings = new ArrayList<>();
    for (Map.Entry<String, Object> field : body) {
      String name = field.getKey();
      if (name.equals("models") || name.equals("provider")) {
        continue;
      }
      if (ChatRequestValidator.REFUSED.contains(name)) {
        throw new ApiError(Failure.INVALID_REQUEST, "'" + name + "' is not accepted: Flopex"
            + " sends requests only to the providers it is configured with.", name);
      }
      if (STATEFUL.containsKey(name) && field.getValue() != null) {
        throw new ApiError(Failure.INVALID_REQUEST, "'" + name + "' is not supported. "
            + STATEFUL.get(name), name);
      }
      if (ACCEPTED.contains(name)) {
        accepted.put(name, field.getValue());
      } else if (!STATEFUL.containsKey(name)) {
        warnings.add("unsupported field '" + ChatRequestValidator.printable(name)
            + "' was dropped");
      }
    }
    JsonObject request = new JsonObject(accepted);
    ChatRequestValidator.checkModel(request);
    ChatRequestValidator.checkFinite(request);
    check(request, warnings);
    JsonObject chat;
    try {
      chat = ResponsesToChat.toChat(request, warnings);
    } catch (UnsupportedRequest e) {
      throw new ApiError(Failure.INVALID_REQUEST, e.getMessage(), e.param());
    }
    ChatRequestValidator.capWarnings(warnings);
    ProviderPreferences preferences = ChatRequestValidator.preferences(body.getValue("provider"),
        chat, warnings);
    return new ChatRequestValidator.Validated(chat, List.copyOf(warnings),
        ClientFormat.OPENAI_RESPONSES,
        ChatRequestValidator.fallbackModels(body.getValue("models"), chat.getString("model")),
        preferences, request);
  }

  /** The scalar fields; {@code input}, tools and formats are checked as they are read. */
  private static void check(JsonObject request, List<String> warnings) {
    if (Boolean.TRUE.equals(request.getValue("background"))) {
      throw new ApiError(Failure.INVALID_REQUEST, "'background' is not supported: Flopex"
          + " keeps no responses to poll later. Send the request without it, with 'stream':"
          + " true for long answers.", "background");
    }
    ChatRequestValidator.optionalType(request, "background", Boolean.class, "a boolean");
    ChatRequestValidator.optionalType(request, "stream", Boolean.class, "a boolean");
    ChatRequestValidator.optionalType(request, "instructions", String.class, "a string");
    ChatRequestValidator.optionalType(request, "parallel_tool_calls", Boolean.class,
        "a boolean");
    ChatRequestValidator.optionalType(request, "metadata", JsonObject.class, "an object");
    ChatRequestValidator.optionalType(request, "reasoning", JsonObject.class, "an object");
    ChatRequestValidator.optionalType(request, "text", JsonObject.class, "an object");
    ChatRequestValidator.optionalType(request, "tools", JsonArray.class, "an array");
    ChatRequestValidator.optionalType(request, "store", Boolean.class, "a boolean");
    ChatRequestValidator.positiveInt(request, "max_output_tokens", Integer.MAX_VALUE);
    ChatRequestValidator.range(request, "temperature", 0, 2);
    ChatRequestValidator.range(request, "top_p", 0, 1);
    if (request.getValue("reasoning") instanceof JsonObject reasoning
        && reasoning.getValue("effort") != null
        && !(reasoning.getValue("effort") instanceof String)) {
      throw new ApiError(Failure.INVALID_REQUEST, "'reasoning.effort' must be a string such as"
          + " low, medium or high.", "reasoning.effort");
    }
    if (Boolean.TRUE.equals(request.getValue("store"))) {
      warnings.add("store: Flopex keeps no conversation content, so the response was not"
          + " stored");
    }
    if (request.getValue("include") instanceof JsonArray include && !include.isEmpty()) {
      warnings.add("include: no extra output is available and it was dropped");
    }
    if (request.getValue("truncation") != null
        && !"disabled".equals(request.getValue("truncation"))) {
      warnings.add("truncation: the input is never truncated; a prompt too long for a model"
          + " moves to a fallback model with a larger window, or is refused");
    }
    if (request.getValue("reasoning") instanceof JsonObject reasoning
        && reasoning.getValue("summary") != null) {
      warnings.add("reasoning.summary: no summaries are produced; reasoning text, where the"
          + " provider returns it, comes as reasoning content");
    }
  }
}
