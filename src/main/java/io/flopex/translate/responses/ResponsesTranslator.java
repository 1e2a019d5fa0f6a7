package io.flopex.translate.responses;

import io.flopex.bus.Usage;
import io.flopex.translate.StreamTranslator;
import io.flopex.translate.Translated;
import io.flopex.translate.Translator;
import io.flopex.translate.UnsupportedRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * OpenAI Responses client to any provider, by way of Chat Completions: the request, already read
 * into Chat Completions form by {@link ResponsesToChat} when it was validated, is sent by the
 * Chat Completions translator of the provider's format; that translator's answer, or its stream
 * of OpenAI chunks, is then written as a Responses {@code response}, or as Responses events
 * ({@link OpenAiChunksToResponses}).
 *
 * <p>Field names in warnings and refusals are the client's own: a provider that drops {@code
 * reasoning_effort} is reported as dropping {@code reasoning.effort}.
 */
public final class ResponsesTranslator implements Translator {

  /** Chat Completions names, as the client wrote them in the Responses API. */
  private static final Map<String, String> CLIENT_NAMES = Map.of(
      "reasoning_effort", "reasoning.effort",
      "response_format", "text.format",
      "max_completion_tokens", "max_output_tokens",
      "verbosity", "text.verbosity");

  private final Translator chat;

  /** @param chat the Chat Completions translator of the provider's format */
  public ResponsesTranslator(Translator chat) {
    this.chat = chat;
  }

  @Override
  public JsonObject request(JsonObject chatRequest, String upstreamModel, boolean stream,
      List<String> warnings) {
    List<String> own = new ArrayList<>();
    try {
      JsonObject body = chat.request(chatRequest, upstreamModel, stream, own);
      own.forEach(w -> warnings.add(clientNames(w)));
      return body;
    } catch (UnsupportedRequest e) {
      throw new UnsupportedRequest(clientParam(e.param()), clientNames(e.getMessage()));
    }
  }

  /** A Chat Completions field path as the client's: {@code messages[3].content} is input. */
  static String clientParam(String param) {
    if (param == null) {
      return null;
    }
    if (param.startsWith("messages")) {
      return "input";
    }
    String head = param.split("[.\\[]", 2)[0];
    String renamed = CLIENT_NAMES.get(head);
    return renamed == null ? param : renamed + param.substring(head.length());
  }

  private static String clientNames(String text) {
    String out = text;
    for (Map.Entry<String, String> name : CLIENT_NAMES.entrySet()) {
      out = out.replace("'" + name.getKey() + "'", "'" + name.getValue() + "'");
    }
    return out;
  }

  @Override
  public Translated response(JsonObject upstreamBody, String clientModel) {
    return response(upstreamBody, clientModel, null);
  }

  @Override
  public Translated response(JsonObject upstreamBody, String clientModel,
      JsonObject clientRequest) {
    Translated answer = chat.response(upstreamBody, clientModel);
    return answer == null ? null : fromChat(answer, clientModel, clientRequest);
  }

  /** A chat completion, already in OpenAI's shape, as a Responses {@code response}. */
  static Translated fromChat(Translated completion, String clientModel, JsonObject client) {
    JsonObject choice = completion.body().getJsonArray("choices").getJsonObject(0);
    JsonObject message = choice.getValue("message") instanceof JsonObject m ? m
        : new JsonObject();
    String finish = choice.getValue("finish_reason") instanceof String f ? f : null;
    JsonObject incomplete = ResponseObjects.incompleteDetails(finish);
    String itemStatus = incomplete == null ? "completed" : "incomplete";
    JsonArray output = new JsonArray();
    for (String field : new String[] {"reasoning_content", "reasoning"}) {
      if (message.getValue(field) instanceof String thought && !thought.isEmpty()) {
        output.add(new JsonObject().put("id", ResponseObjects.id("rs")).put("type", "reasoning")
            .put("summary", new JsonArray())
            .put("content", new JsonArray().add(ResponseObjects.reasoningText(thought))));
        break;
      }
    }
    JsonArray content = new JsonArray();
    if (message.getValue("content") instanceof String text && !text.isEmpty()) {
      content.add(ResponseObjects.outputText(text));
    }
    if (message.getValue("refusal") instanceof String refusal && !refusal.isEmpty()) {
      content.add(ResponseObjects.refusal(refusal));
    }
    if (!content.isEmpty()) {
      output.add(new JsonObject().put("id", ResponseObjects.id("msg")).put("type", "message")
          .put("status", itemStatus).put("role", "assistant").put("content", content));
    }
    if (message.getValue("tool_calls") instanceof JsonArray calls) {
      for (Object c : calls) {
        if (!(c instanceof JsonObject call)) {
          continue;
        }
        JsonObject function = call.getValue("function") instanceof JsonObject f ? f
            : new JsonObject();
        output.add(new JsonObject().put("id", ResponseObjects.id("fc"))
            .put("type", "function_call")
            .put("status", "completed")
            .put("arguments", function.getValue("arguments") instanceof String a ? a : "{}")
            .put("call_id", call.getValue("id") instanceof String id ? id
                : ResponseObjects.id("call"))
            .put("name", function.getValue("name")));
      }
    }
    Object created = completion.body().getValue("created");
    long createdAt = created instanceof Number n ? n.longValue()
        : System.currentTimeMillis() / 1000;
    JsonObject body = ResponseObjects.envelope(ResponseObjects.id("resp"), createdAt,
        clientModel, client, incomplete == null ? "completed" : "incomplete");
    body.put("incomplete_details", incomplete).put("output", output);
    if (incomplete == null) {
      body.put("completed_at", System.currentTimeMillis() / 1000);
    }
    // A provider that reported no usage leaves it null here; the request is metered on an
    // estimate, flagged as such in its usage row.
    Usage usage = completion.usage();
    body.put("usage", usage == null ? null : ResponseObjects.usage(usage));
    return new Translated(body, usage);
  }

  @Override
  public StreamTranslator stream(StreamContext context) {
    return new OpenAiChunksToResponses(context, chat.stream(new StreamContext(context.id(),
        context.clientModel(), false)));
  }
}
