package io.flopex.translate.openai;

import io.flopex.bus.Usage;
import io.flopex.translate.ClientEvent;
import io.flopex.translate.StreamTranslator;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;

/**
 * Reshapes the chunks of an OpenAI-format upstream stream into the stream the client is owed.
 *
 * <p>Every chunk carries one id and the model name the client asked for. Usage is taken from
 * wherever the upstream puts it (a trailing chunk with no choices, or, as some hosts do, on the
 * finish chunk) and removed there; the relay then emits exactly one usage chunk, with {@code
 * "choices": []}, after the finish chunk, and only when the client asked for it. Each choice
 * finishes once. One relay serves one attempt.
 */
public final class OpenAiStreamRelay implements StreamTranslator {

  private final String id;
  private final String model;
  private final boolean includeUsage;
  private final Set<Integer> finished = new HashSet<>();
  private final Set<Integer> seenChoices = new HashSet<>();
  private long created;
  private Usage usage;
  private long deliveredChars;
  private boolean content;

  public OpenAiStreamRelay(String id, String model, boolean includeUsage) {
    this.id = id;
    this.model = model;
    this.includeUsage = includeUsage;
  }

  @Override
  public List<ClientEvent> accept(String event, JsonObject data) {
    JsonObject out = accept(data);
    return out == null ? List.of() : List.of(ClientEvent.data(out));
  }

  @Override
  public List<ClientEvent> end(Usage usage) {
    List<ClientEvent> out = new ArrayList<>();
    for (JsonObject chunk : closing(usage)) {
      out.add(ClientEvent.data(chunk));
    }
    out.add(ClientEvent.DONE);
    return out;
  }

  /** An {@code error} object where a chunk would be, and no {@code [DONE]} after it. */
  @Override
  public ClientEvent failure(String code, String message) {
    return ClientEvent.data(new JsonObject().put("error", new JsonObject()
        .put("message", message)
        .put("type", "upstream_error")
        .putNull("param")
        .put("code", code)));
  }

  /**
   * Returns the chunk to send, or {@code null} when it carries nothing for the client (a usage
   * chunk).
   */
  JsonObject accept(JsonObject upstream) {
    Usage reported = Usage.fromOpenAi(upstream.getValue("usage"));
    if (reported != null) {
      usage = reported;
    }
    if (created == 0 && upstream.getValue("created") instanceof Number n) {
      created = n.longValue();
    }
    if (!(upstream.getValue("choices") instanceof JsonArray choices) || choices.isEmpty()) {
      return null;
    }
    JsonObject out = new JsonObject(new LinkedHashMap<>(upstream.getMap()));
    out.remove("usage");
    // Vendor extensions such as Groq's x_groq repeat the usage and name the host's request.
    out.getMap().keySet().removeIf(field -> field.startsWith("x_"));
    out.put("id", id).put("model", model);
    if (created != 0) {
      out.put("created", created);
    }
    JsonArray outChoices = new JsonArray(new ArrayList<>(choices.size()));
    for (Object c : choices) {
      if (!(c instanceof JsonObject choice)) {
        continue;
      }
      int index = choice.getValue("index") instanceof Number n ? n.intValue() : 0;
      seenChoices.add(index);
      Object finish = choice.getValue("finish_reason");
      if (finish != null && !finished.add(index)) {
        choice = new JsonObject(new LinkedHashMap<>(choice.getMap())).put("finish_reason", null);
      } else if (finish != null) {
        content = true;
      }
      if (choice.getValue("delta") instanceof JsonObject delta) {
        countContent(delta);
      }
      outChoices.add(choice);
    }
    out.put("choices", outChoices);
    return out;
  }

  private void countContent(JsonObject delta) {
    for (String field : new String[] {"content", "refusal", "reasoning_content", "reasoning"}) {
      if (delta.getValue(field) instanceof String s && !s.isEmpty()) {
        content = true;
        deliveredChars += s.length();
      }
    }
    if (delta.getValue("tool_calls") instanceof JsonArray calls && !calls.isEmpty()) {
      content = true;
      for (Object call : calls) {
        if (call instanceof JsonObject o && o.getValue("function") instanceof JsonObject f
            && f.getValue("arguments") instanceof String args) {
          deliveredChars += args.length();
        }
      }
    }
  }

  @Override
  public boolean hasContent() {
    return content;
  }

  boolean finishedAny() {
    return !finished.isEmpty();
  }

  /** The chunks that close the stream: finishes the upstream never sent, then usage if asked. */
  List<JsonObject> closing(Usage finalUsage) {
    List<JsonObject> out = new ArrayList<>();
    if (seenChoices.isEmpty()) {
      seenChoices.add(0);
    }
    for (Integer index : seenChoices) {
      if (!finished.contains(index)) {
        finished.add(index);
        out.add(envelope().put("choices", new JsonArray().add(new JsonObject()
            .put("index", index)
            .put("delta", new JsonObject())
            .put("finish_reason", "stop"))));
      }
    }
    if (includeUsage) {
      out.add(envelope().put("choices", new JsonArray()).put("usage", OpenAiUsage.toJson(finalUsage)));
    }
    return out;
  }

  private JsonObject envelope() {
    return new JsonObject()
        .put("id", id)
        .put("object", "chat.completion.chunk")
        .put("created", created != 0 ? created : System.currentTimeMillis() / 1000)
        .put("model", model);
  }

  @Override
  public Usage reportedUsage() {
    return usage;
  }

  @Override
  public long deliveredChars() {
    return deliveredChars;
  }
}
