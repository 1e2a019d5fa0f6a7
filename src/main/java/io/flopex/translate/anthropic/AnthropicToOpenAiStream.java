package io.flopex.translate.anthropic;

import io.flopex.bus.Usage;
import io.flopex.translate.ClientEvent;
import io.flopex.translate.FinishReasons;
import io.flopex.translate.StreamTranslator;
import io.flopex.translate.Translator.StreamContext;
import io.flopex.translate.openai.OpenAiStreamRelay;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Anthropic stream events, one at a time, as OpenAI chunks. Each {@code tool_use} block becomes a
 * tool call with the next contiguous index, its id and name in the first delta only and its
 * {@code input_json_delta} fragments as argument deltas; text deltas become content deltas; the
 * stop reason becomes the finish chunk. The chunks are then shaped by an {@link
 * OpenAiStreamRelay}, which owns ids, the finish-once rule and the usage chunk. Thinking blocks are
 * not passed on: OpenAI's format has no place for their signatures.
 */
final class AnthropicToOpenAiStream implements StreamTranslator {

  private final OpenAiStreamRelay relay;
  private final long created = System.currentTimeMillis() / 1000;
  private final Map<Integer, Integer> toolIndexByBlock = new HashMap<>();
  private final Set<Integer> toolsWithArguments = new HashSet<>();
  private final AnthropicUsageTracker usage = new AnthropicUsageTracker();

  AnthropicToOpenAiStream(StreamContext context) {
    this.relay = new OpenAiStreamRelay(context.id(), context.clientModel(),
        context.includeUsage());
  }

  @Override
  public List<ClientEvent> accept(String event, JsonObject data) {
    String type = data.getValue("type") instanceof String t ? t : event;
    usage.read(type, data);
    JsonObject delta;
    String finish = null;
    switch (type) {
      case "message_start" -> {
        delta = new JsonObject().put("role", "assistant").put("content", "");
      }
      case "content_block_start" -> {
        JsonObject block = data.getValue("content_block") instanceof JsonObject b ? b
            : new JsonObject();
        if (!"tool_use".equals(block.getValue("type"))) {
          return List.of();
        }
        int toolIndex = toolIndexByBlock.size();
        toolIndexByBlock.put(blockIndex(data), toolIndex);
        delta = new JsonObject().put("tool_calls", new JsonArray().add(new JsonObject()
            .put("index", toolIndex)
            .put("id", block.getValue("id"))
            .put("type", "function")
            .put("function", new JsonObject().put("name", block.getValue("name"))
                .put("arguments", ""))));
      }
      case "content_block_delta" -> {
        JsonObject d = data.getValue("delta") instanceof JsonObject o ? o : new JsonObject();
        String deltaType = d.getValue("type") instanceof String t ? t : "";
        if (deltaType.equals("text_delta") && d.getValue("text") instanceof String text) {
          delta = new JsonObject().put("content", text);
        } else if (deltaType.equals("input_json_delta")
            && d.getValue("partial_json") instanceof String json && !json.isEmpty()
            && toolIndexByBlock.containsKey(blockIndex(data))) {
          toolsWithArguments.add(blockIndex(data));
          delta = new JsonObject().put("tool_calls", new JsonArray().add(new JsonObject()
              .put("index", toolIndexByBlock.get(blockIndex(data)))
              .put("function", new JsonObject().put("arguments", json))));
        } else {
          return List.of();
        }
      }
      case "content_block_stop" -> {
        int block = blockIndex(data);
        if (!toolIndexByBlock.containsKey(block) || toolsWithArguments.contains(block)) {
          return List.of();
        }
        // A tool called with no input: its arguments must still be a JSON object.
        toolsWithArguments.add(block);
        delta = new JsonObject().put("tool_calls", new JsonArray().add(new JsonObject()
            .put("index", toolIndexByBlock.get(block))
            .put("function", new JsonObject().put("arguments", "{}"))));
      }
      case "message_delta" -> {
        JsonObject d = data.getValue("delta") instanceof JsonObject o ? o : new JsonObject();
        if (!(d.getValue("stop_reason") instanceof String reason)) {
          return List.of();
        }
        finish = FinishReasons.fromAnthropic(reason);
        delta = new JsonObject();
      }
      default -> {
        return List.of();
      }
    }
    JsonObject chunk = new JsonObject()
        .put("object", "chat.completion.chunk")
        .put("created", created)
        .put("choices", new JsonArray().add(new JsonObject()
            .put("index", 0)
            .put("delta", delta)
            .put("finish_reason", finish)));
    return relay.accept(event, chunk);
  }

  private static int blockIndex(JsonObject data) {
    return data.getValue("index") instanceof Number n ? n.intValue() : 0;
  }

  @Override
  public boolean hasContent() {
    return relay.hasContent();
  }

  @Override
  public List<ClientEvent> end(Usage usage) {
    return relay.end(usage);
  }

  @Override
  public ClientEvent failure(String code, String message) {
    return relay.failure(code, message);
  }

  @Override
  public Usage reportedUsage() {
    return usage.usage();
  }

  @Override
  public long deliveredChars() {
    return relay.deliveredChars();
  }
}
