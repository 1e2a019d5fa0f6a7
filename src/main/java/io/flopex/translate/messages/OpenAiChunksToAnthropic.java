package io.flopex.translate.messages;

import io.flopex.bus.Usage;
import io.flopex.translate.ClientEvent;
import io.flopex.translate.StreamTranslator;
import io.flopex.translate.Translator.StreamContext;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * OpenAI chunks, one at a time, as Anthropic's stream events: {@code message_start}, then one
 * content block per run of text and per tool call (each started, its deltas, stopped), then
 * {@code message_delta} with the stop reason and usage, and {@code message_stop}.
 *
 * <p>Anthropic's blocks cannot interleave, while OpenAI's parallel tool calls may. The first
 * call streams as it comes; the arguments of the others are gathered and each is sent as a whole
 * block when the first one ends.
 *
 * <p>It reads the chunks of an OpenAI-format provider directly, or, given an inner translator,
 * the OpenAI chunks that translator makes of another provider's events.
 */
public final class OpenAiChunksToAnthropic implements StreamTranslator {

  private final StreamContext context;
  private final StreamTranslator inner;
  private boolean started;
  private int nextBlock;
  private int openBlock = -1;
  private int openTool = -1;
  private final Map<Integer, PendingCall> pending = new TreeMap<>();
  private final Set<Integer> closedTools = new HashSet<>();
  private final Map<Integer, String> toolIds = new HashMap<>();
  private final Map<Integer, String> toolNames = new HashMap<>();
  private boolean refused;

  /** A tool call waiting for the block before it to end. */
  private static final class PendingCall {
    String id;
    String name;
    final StringBuilder arguments = new StringBuilder();
  }
  private String stopReason;
  private Usage usage;
  private long deliveredChars;
  private boolean content;

  OpenAiChunksToAnthropic(StreamContext context, StreamTranslator inner) {
    this.context = context;
    this.inner = inner;
  }

  @Override
  public List<ClientEvent> accept(String event, JsonObject data) {
    List<ClientEvent> out = new ArrayList<>();
    if (inner == null) {
      chunk(data, out);
    } else {
      for (ClientEvent e : inner.accept(event, data)) {
        if (e.data() != null) {
          chunk(e.data(), out);
        }
      }
    }
    return out;
  }

  private void chunk(JsonObject chunk, List<ClientEvent> out) {
    Usage reported = Usage.fromOpenAi(chunk.getValue("usage"));
    if (reported != null) {
      usage = reported;
    }
    if (!started) {
      started = true;
      out.add(new ClientEvent("message_start", new JsonObject().put("type", "message_start")
          .put("message", new JsonObject()
              .put("id", "msg_" + context.id())
              .put("type", "message")
              .put("role", "assistant")
              .put("model", context.clientModel())
              .put("content", new JsonArray())
              .putNull("stop_reason")
              .putNull("stop_sequence")
              .put("usage", usageJson(Usage.NONE)))));
    }
    if (!(chunk.getValue("choices") instanceof JsonArray choices)) {
      return;
    }
    for (Object c : choices) {
      if (!(c instanceof JsonObject choice)
          || (choice.getValue("index") instanceof Number n && n.intValue() != 0)) {
        continue;
      }
      JsonObject delta = choice.getValue("delta") instanceof JsonObject d ? d : new JsonObject();
      for (String field : new String[] {"reasoning_content", "reasoning"}) {
        if (delta.getValue(field) instanceof String thought && !thought.isEmpty()) {
          // Reasoning is output the provider bills, but it has no signature Anthropic clients
          // could send back: it counts as content and is not passed on.
          content = true;
          deliveredChars += thought.length();
        }
      }
      if (delta.getValue("refusal") instanceof String refusal && !refusal.isEmpty()) {
        refused = true;
        delta = new JsonObject().put("content", refusal);
      }
      if (delta.getValue("content") instanceof String text && !text.isEmpty()) {
        if (openTool >= 0 || openBlock < 0) {
          close(out);
          flushPending(out);
          open(out, new JsonObject().put("type", "text").put("text", ""));
        }
        deliveredChars += text.length();
        out.add(delta(new JsonObject().put("type", "text_delta").put("text", text)));
      }
      if (delta.getValue("tool_calls") instanceof JsonArray calls) {
        for (Object t : calls) {
          if (t instanceof JsonObject call) {
            toolCall(call, out);
          }
        }
      }
      if (choice.getValue("finish_reason") instanceof String reason && stopReason == null) {
        close(out);
        flushPending(out);
        stopReason = refused ? "refusal" : stopReason(reason);
        content = true;
      }
    }
  }

  private void toolCall(JsonObject call, List<ClientEvent> out) {
    int index = call.getValue("index") instanceof Number n ? n.intValue() : 0;
    JsonObject function = call.getValue("function") instanceof JsonObject f ? f
        : new JsonObject();
    String args = function.getValue("arguments") instanceof String a ? a : "";
    if (call.getValue("id") instanceof String id) {
      toolIds.put(index, id);
    }
    if (function.getValue("name") instanceof String name) {
      toolNames.put(index, name);
    }
    deliveredChars += args.length();
    if (index != openTool && (openTool >= 0 || !pending.isEmpty() || closedTools.contains(index)
        || pending.containsKey(index))) {
      // Another call is streaming: keep this one until that block ends.
      PendingCall later = pending.computeIfAbsent(index, i -> new PendingCall());
      later.id = toolIds.get(index);
      later.name = toolNames.get(index);
      later.arguments.append(args);
      return;
    }
    if (index != openTool) {
      close(out);
      openToolBlock(out, index, toolIds.get(index), toolNames.get(index));
    }
    if (!args.isEmpty()) {
      out.add(delta(new JsonObject().put("type", "input_json_delta").put("partial_json", args)));
    }
  }

  private void openToolBlock(List<ClientEvent> out, int index, String id, Object name) {
    open(out, new JsonObject().put("type", "tool_use")
        .put("id", id != null ? id : "toolu_" + index)
        .put("name", name)
        .put("input", new JsonObject()));
    openTool = index;
  }

  /** Sends every gathered tool call as a whole block, in the order of their indices. */
  private void flushPending(List<ClientEvent> out) {
    for (Map.Entry<Integer, PendingCall> entry : pending.entrySet()) {
      PendingCall call = entry.getValue();
      openToolBlock(out, entry.getKey(), call.id, call.name);
      if (call.arguments.length() > 0) {
        out.add(delta(new JsonObject().put("type", "input_json_delta")
            .put("partial_json", call.arguments.toString())));
      }
      close(out);
    }
    pending.clear();
  }

  private void open(List<ClientEvent> out, JsonObject block) {
    openBlock = nextBlock++;
    content = true;
    out.add(new ClientEvent("content_block_start", new JsonObject()
        .put("type", "content_block_start").put("index", openBlock).put("content_block", block)));
  }

  private ClientEvent delta(JsonObject delta) {
    return new ClientEvent("content_block_delta", new JsonObject()
        .put("type", "content_block_delta").put("index", openBlock).put("delta", delta));
  }

  private void close(List<ClientEvent> out) {
    if (openTool >= 0) {
      closedTools.add(openTool);
    }
    if (openBlock >= 0) {
      out.add(new ClientEvent("content_block_stop", new JsonObject()
          .put("type", "content_block_stop").put("index", openBlock)));
      openBlock = -1;
      openTool = -1;
    }
  }

  @Override
  public boolean hasContent() {
    return content;
  }

  @Override
  public List<ClientEvent> end(Usage finalUsage) {
    List<ClientEvent> out = new ArrayList<>();
    if (!started) {
      chunk(new JsonObject(), out);
    }
    close(out);
    flushPending(out);
    out.add(new ClientEvent("message_delta", new JsonObject().put("type", "message_delta")
        .put("delta", new JsonObject()
            .put("stop_reason", stopReason == null ? "end_turn" : stopReason)
            .putNull("stop_sequence"))
        .put("usage", usageJson(finalUsage))));
    out.add(new ClientEvent("message_stop", new JsonObject().put("type", "message_stop")));
    return out;
  }

  @Override
  public ClientEvent failure(String code, String message) {
    return AnthropicEvents.error(message);
  }

  @Override
  public Usage reportedUsage() {
    return inner != null ? inner.reportedUsage() : usage;
  }

  @Override
  public long deliveredChars() {
    return deliveredChars;
  }

  /** OpenAI's finish reason as Anthropic's stop reason; anything unknown ended the turn. */
  static String stopReason(String finishReason) {
    if (finishReason == null) {
      return "end_turn";
    }
    return switch (finishReason) {
      case "length" -> "max_tokens";
      case "tool_calls", "function_call" -> "tool_use";
      case "content_filter" -> "refusal";
      default -> "end_turn";
    };
  }

  /** Anthropic's usage: {@code input_tokens} excludes what was read from or written to cache. */
  public static JsonObject usageJson(Usage u) {
    return new JsonObject()
        .put("input_tokens", Math.max(0, u.promptTokens() - u.cachedTokens()
            - u.cacheWriteTokens()))
        .put("cache_creation_input_tokens", u.cacheWriteTokens())
        .put("cache_read_input_tokens", u.cachedTokens())
        .put("output_tokens", u.completionTokens());
  }

  /** Tool-call arguments as an input object; arguments that are not a JSON object become {}. */
  static JsonObject input(Object arguments) {
    if (arguments instanceof String s && !s.isBlank()) {
      try {
        return new JsonObject(s);
      } catch (DecodeException | ClassCastException e) {
        return new JsonObject();
      }
    }
    return new JsonObject();
  }
}
