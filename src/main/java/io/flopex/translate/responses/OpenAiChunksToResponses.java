package io.flopex.translate.responses;

import io.flopex.bus.Usage;
import io.flopex.translate.ClientEvent;
import io.flopex.translate.StreamTranslator;
import io.flopex.translate.Translator.StreamContext;
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
 * OpenAI chunks, one at a time, as the Responses API's typed events, each with its {@code
 * sequence_number}: {@code response.created} and {@code response.in_progress}; then one output
 * item per run of reasoning, of text, of refusal and per function call, each added, its content
 * part added, its deltas, its content done, the item done; then {@code response.completed} (or
 * {@code response.incomplete} when the limit or a filter cut the output) with every item and the
 * usage.
 *
 * <p>Items are written one after another, as the API writes them, while OpenAI's parallel tool
 * calls may interleave: the first call streams as it comes, the others are gathered and each is
 * written whole when the item before it ends.
 *
 * <p>It reads the OpenAI chunks that the provider format's Chat Completions stream translator
 * makes: the provider's own for an OpenAI-format provider, translated ones otherwise.
 */
final class OpenAiChunksToResponses implements StreamTranslator {

  private enum Kind { REASONING, TEXT, REFUSAL, TOOL }

  /** The output item being written. */
  private static final class OpenItem {
    final Kind kind;
    final int outputIndex;
    final String id;
    final StringBuilder text = new StringBuilder();
    int toolIndex = -1;
    String callId;
    String name;

    OpenItem(Kind kind, int outputIndex, String id) {
      this.kind = kind;
      this.outputIndex = outputIndex;
      this.id = id;
    }
  }

  /** A function call waiting for the item before it to end. */
  private static final class PendingCall {
    final StringBuilder arguments = new StringBuilder();
  }

  private final StreamContext context;
  private final StreamTranslator inner;
  private final String responseId;
  private final long createdAt = System.currentTimeMillis() / 1000;
  private final JsonArray output = new JsonArray();
  private final Map<Integer, PendingCall> pending = new TreeMap<>();
  private final Set<Integer> closedTools = new HashSet<>();
  private final Map<Integer, String> toolIds = new HashMap<>();
  private final Map<Integer, String> toolNames = new HashMap<>();
  private OpenItem open;
  private int sequence;
  private boolean started;
  private boolean content;
  private String finish;

  OpenAiChunksToResponses(StreamContext context, StreamTranslator inner) {
    this.context = context;
    this.inner = inner;
    String id = context.id();
    this.responseId = "resp_" + (id.startsWith("chatcmpl-") ? id.substring(9) : id);
  }

  @Override
  public List<ClientEvent> accept(String event, JsonObject data) {
    List<ClientEvent> out = new ArrayList<>();
    for (ClientEvent e : inner.accept(event, data)) {
      if (e.data() != null) {
        chunk(e.data(), out);
      }
    }
    return out;
  }

  private void chunk(JsonObject chunk, List<ClientEvent> out) {
    if (!started) {
      started = true;
      out.add(event("response.created", new JsonObject().put("response",
          snapshot("in_progress"))));
      out.add(event("response.in_progress", new JsonObject().put("response",
          snapshot("in_progress"))));
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
          textDelta(Kind.REASONING, thought, out);
        }
      }
      if (delta.getValue("content") instanceof String text && !text.isEmpty()) {
        textDelta(Kind.TEXT, text, out);
      }
      if (delta.getValue("refusal") instanceof String refusal && !refusal.isEmpty()) {
        textDelta(Kind.REFUSAL, refusal, out);
      }
      if (delta.getValue("tool_calls") instanceof JsonArray calls) {
        for (Object t : calls) {
          if (t instanceof JsonObject call) {
            toolCall(call, out);
          }
        }
      }
      if (choice.getValue("finish_reason") instanceof String reason && finish == null) {
        finish = reason;
        close(out);
        flushPending(out);
        content = true;
      }
    }
  }

  private void textDelta(Kind kind, String delta, List<ClientEvent> out) {
    if (open == null || open.kind != kind) {
      close(out);
      flushPending(out);
      openItem(kind, out);
    }
    open.text.append(delta);
    String type = switch (kind) {
      case REASONING -> "response.reasoning_text.delta";
      case REFUSAL -> "response.refusal.delta";
      default -> "response.output_text.delta";
    };
    JsonObject fields = partFields(open).put("delta", delta);
    if (kind == Kind.TEXT) {
      fields.put("logprobs", new JsonArray());
    }
    out.add(event(type, fields));
  }

  private void openItem(Kind kind, List<ClientEvent> out) {
    int index = output.size();
    if (kind == Kind.REASONING) {
      open = new OpenItem(kind, index, ResponseObjects.id("rs"));
      out.add(event("response.output_item.added", new JsonObject().put("output_index", index)
          .put("item", new JsonObject().put("id", open.id).put("type", "reasoning")
              .put("summary", new JsonArray()).put("content", new JsonArray()))));
    } else {
      open = new OpenItem(kind, index, ResponseObjects.id("msg"));
      out.add(event("response.output_item.added", new JsonObject().put("output_index", index)
          .put("item", new JsonObject().put("id", open.id).put("type", "message")
              .put("status", "in_progress").put("role", "assistant")
              .put("content", new JsonArray()))));
    }
    content = true;
    out.add(event("response.content_part.added", partFields(open).put("part", part(open))));
  }

  private static JsonObject partFields(OpenItem item) {
    return new JsonObject().put("item_id", item.id).put("output_index", item.outputIndex)
        .put("content_index", 0);
  }

  private static JsonObject part(OpenItem item) {
    String text = item.text.toString();
    return switch (item.kind) {
      case REASONING -> ResponseObjects.reasoningText(text);
      case REFUSAL -> ResponseObjects.refusal(text);
      default -> ResponseObjects.outputText(text);
    };
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
      if (open != null && open.toolIndex == index) {
        open.name = name;
      }
    }
    int openTool = open != null && open.kind == Kind.TOOL ? open.toolIndex : -1;
    if (index != openTool && (openTool >= 0 || !pending.isEmpty()
        || closedTools.contains(index) || pending.containsKey(index))) {
      // Another call is being written: keep this one until that item ends.
      pending.computeIfAbsent(index, i -> new PendingCall()).arguments.append(args);
      return;
    }
    if (index != openTool) {
      close(out);
      openTool(index, out);
    }
    argumentsDelta(args, out);
  }

  private void openTool(int index, List<ClientEvent> out) {
    open = new OpenItem(Kind.TOOL, output.size(), ResponseObjects.id("fc"));
    open.toolIndex = index;
    open.callId = toolIds.getOrDefault(index, ResponseObjects.id("call"));
    open.name = toolNames.get(index);
    content = true;
    out.add(event("response.output_item.added", new JsonObject()
        .put("output_index", open.outputIndex)
        .put("item", new JsonObject().put("id", open.id).put("type", "function_call")
            .put("status", "in_progress").put("arguments", "").put("call_id", open.callId)
            .put("name", open.name))));
  }

  private void argumentsDelta(String args, List<ClientEvent> out) {
    if (args.isEmpty()) {
      return;
    }
    open.text.append(args);
    out.add(event("response.function_call_arguments.delta", new JsonObject()
        .put("item_id", open.id).put("output_index", open.outputIndex).put("delta", args)));
  }

  /** Writes every gathered call as a whole item, in the order of their indices. */
  private void flushPending(List<ClientEvent> out) {
    for (Map.Entry<Integer, PendingCall> entry : pending.entrySet()) {
      openTool(entry.getKey(), out);
      argumentsDelta(entry.getValue().arguments.toString(), out);
      close(out);
    }
    pending.clear();
  }

  /** Ends the open item: its content done, then the item done with its final state. */
  private void close(List<ClientEvent> out) {
    if (open == null) {
      return;
    }
    OpenItem item = open;
    open = null;
    String text = item.text.toString();
    JsonObject done;
    switch (item.kind) {
      case TOOL -> {
        closedTools.add(item.toolIndex);
        String arguments = text.isEmpty() ? "{}" : text;
        out.add(event("response.function_call_arguments.done", new JsonObject()
            .put("item_id", item.id).put("output_index", item.outputIndex)
            .put("name", item.name).put("arguments", arguments)));
        done = finished(item, arguments);
      }
      case REASONING -> {
        out.add(event("response.reasoning_text.done", partFields(item).put("text", text)));
        out.add(event("response.content_part.done", partFields(item).put("part", part(item))));
        done = finished(item, text);
      }
      case REFUSAL -> {
        out.add(event("response.refusal.done", partFields(item).put("refusal", text)));
        out.add(event("response.content_part.done", partFields(item).put("part", part(item))));
        done = finished(item, text);
      }
      default -> {
        out.add(event("response.output_text.done", partFields(item).put("text", text)
            .put("logprobs", new JsonArray())));
        out.add(event("response.content_part.done", partFields(item).put("part", part(item))));
        done = finished(item, text);
      }
    }
    output.add(done);
    out.add(event("response.output_item.done", new JsonObject()
        .put("output_index", item.outputIndex).put("item", done)));
  }

  /** The item as it stands once written; {@code text} is its text or its arguments. */
  private JsonObject finished(OpenItem item, String text) {
    String status = ResponseObjects.incompleteDetails(finish) == null ? "completed"
        : "incomplete";
    return switch (item.kind) {
      case TOOL -> new JsonObject().put("id", item.id).put("type", "function_call")
          .put("status", "completed").put("arguments", text).put("call_id", item.callId)
          .put("name", item.name);
      case REASONING -> new JsonObject().put("id", item.id).put("type", "reasoning")
          .put("summary", new JsonArray())
          .put("content", new JsonArray().add(ResponseObjects.reasoningText(text)));
      default -> new JsonObject().put("id", item.id).put("type", "message")
          .put("status", status).put("role", "assistant")
          .put("content", new JsonArray().add(part(item)));
    };
  }

  private JsonObject snapshot(String status) {
    return ResponseObjects.envelope(responseId, createdAt, context.clientModel(),
        context.clientRequest(), status).put("output", output.copy());
  }

  private ClientEvent event(String type, JsonObject fields) {
    JsonObject data = new JsonObject().put("type", type);
    fields.forEach(field -> data.put(field.getKey(), field.getValue()));
    data.put("sequence_number", sequence++);
    return new ClientEvent(type, data);
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
    JsonObject incomplete = ResponseObjects.incompleteDetails(finish);
    JsonObject response = snapshot(incomplete == null ? "completed" : "incomplete")
        .put("incomplete_details", incomplete)
        .put("usage", ResponseObjects.usage(finalUsage));
    if (incomplete == null) {
      response.put("completed_at", System.currentTimeMillis() / 1000);
    }
    out.add(event(incomplete == null ? "response.completed" : "response.incomplete",
        new JsonObject().put("response", response)));
    return out;
  }

  /**
   * {@code response.failed}, with the items written so far (an unfinished one as it stood) and
   * the error; the API's code for a failure on its side is {@code server_error}.
   */
  @Override
  public ClientEvent failure(String code, String message) {
    JsonObject response = snapshot("failed").put("error", new JsonObject()
        .put("code", "server_error").put("message", message));
    if (open != null) {
      JsonObject partial = finished(open, open.text.toString());
      if (partial.containsKey("status")) {
        partial.put("status", "incomplete");
      }
      response.getJsonArray("output").add(partial);
    }
    return event("response.failed", new JsonObject().put("response", response));
  }

  @Override
  public Usage reportedUsage() {
    return inner.reportedUsage();
  }

  @Override
  public long deliveredChars() {
    return inner.deliveredChars();
  }
}
