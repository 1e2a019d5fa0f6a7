package io.flopex.translate.gemini;

import io.flopex.bus.Usage;
import io.flopex.translate.ClientEvent;
import io.flopex.translate.FinishReasons;
import io.flopex.translate.StreamTranslator;
import io.flopex.translate.Translator.StreamContext;
import io.flopex.translate.openai.OpenAiStreamRelay;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.UUID;
import java.util.List;
import java.util.Set;

/**
 * Gemini stream chunks, one at a time, as OpenAI chunks. Gemini sends each function call whole,
 * so each becomes one tool-call delta with the next contiguous index, its id, name and complete
 * arguments; text parts become content deltas; a {@code finishReason} becomes the finish chunk.
 * Usage is cumulative in every chunk: the last one counts. Shaping (ids, finish once, the usage
 * chunk) is left to an {@link OpenAiStreamRelay}.
 */
final class GeminiToOpenAiStream implements StreamTranslator {

  private final OpenAiStreamRelay relay;
  private final long created = System.currentTimeMillis() / 1000;
  private final Set<Integer> started = new HashSet<>();
  private final Set<Integer> calledFunction = new HashSet<>();
  private final Map<Integer, Integer> toolCalls = new HashMap<>();
  private final String callPrefix = "call_" + UUID.randomUUID().toString().substring(0, 8) + "_";
  private Usage usage;

  GeminiToOpenAiStream(StreamContext context) {
    this.relay = new OpenAiStreamRelay(context.id(), context.clientModel(),
        context.includeUsage());
  }

  @Override
  public List<ClientEvent> accept(String event, JsonObject data) {
    Usage reported = OpenAiChatToGemini.usage(data.getValue("usageMetadata"));
    if (reported != null) {
      usage = reported;
    }
    JsonArray choices = new JsonArray();
    if (data.getValue("candidates") instanceof JsonArray candidates) {
      for (int i = 0; i < candidates.size(); i++) {
        if (candidates.getValue(i) instanceof JsonObject candidate) {
          choices.addAll(choices(candidate, i));
        }
      }
    }
    if (choices.isEmpty() && data.getValue("promptFeedback") instanceof JsonObject feedback
        && feedback.getValue("blockReason") != null) {
      choices.add(choice(0, new JsonObject().put("role", "assistant"), "content_filter"));
      started.add(0);
    }
    if (choices.isEmpty()) {
      return List.of();
    }
    List<ClientEvent> out = new ArrayList<>();
    for (Object c : choices) {
      // One choice per chunk keeps each delta in its own OpenAI chunk, in order.
      out.addAll(relay.accept(event, new JsonObject()
          .put("object", "chat.completion.chunk")
          .put("created", created)
          .put("choices", new JsonArray().add(c))));
    }
    return out;
  }

  private JsonArray choices(JsonObject candidate, int position) {
    int index = candidate.getValue("index") instanceof Number n ? n.intValue() : position;
    JsonArray out = new JsonArray();
    JsonArray parts = candidate.getJsonObject("content", new JsonObject())
        .getJsonArray("parts", new JsonArray());
    for (Object p : parts) {
      if (!(p instanceof JsonObject part) || Boolean.TRUE.equals(part.getValue("thought"))) {
        continue;
      }
      JsonObject delta = new JsonObject();
      if (started.add(index)) {
        delta.put("role", "assistant");
      }
      if (part.getValue("text") instanceof String text) {
        if (text.isEmpty() && !delta.containsKey("role")) {
          continue;
        }
        delta.put("content", text);
      } else if (part.getValue("functionCall") instanceof JsonObject call) {
        calledFunction.add(index);
        int n = toolCalls.merge(index, 1, Integer::sum) - 1;
        JsonObject toolCall = OpenAiChatToGemini.toolCall(call, callPrefix + index + "_" + n)
            .put("index", n);
        delta.put("tool_calls", new JsonArray().add(toolCall));
      } else {
        continue;
      }
      out.add(choice(index, delta, null));
    }
    if (candidate.getValue("finishReason") instanceof String reason) {
      JsonObject delta = new JsonObject();
      if (started.add(index)) {
        delta.put("role", "assistant");
      }
      out.add(choice(index, delta,
          FinishReasons.fromGemini(reason, calledFunction.contains(index))));
    }
    return out;
  }

  private static JsonObject choice(int index, JsonObject delta, String finish) {
    return new JsonObject().put("index", index).put("delta", delta).put("finish_reason", finish);
  }

  @Override
  public boolean hasContent() {
    return relay.hasContent();
  }

  @Override
  public List<ClientEvent> end(Usage finalUsage) {
    return relay.end(finalUsage);
  }

  @Override
  public ClientEvent failure(String code, String message) {
    return relay.failure(code, message);
  }

  @Override
  public Usage reportedUsage() {
    return usage;
  }

  @Override
  public long deliveredChars() {
    return relay.deliveredChars();
  }
}
