package io.flopex.translate.messages;

import io.flopex.bus.Usage;
import io.flopex.translate.ClientEvent;
import io.flopex.translate.StreamTranslator;
import io.flopex.translate.Translated;
import io.flopex.translate.Translator;
import io.flopex.translate.anthropic.AnthropicUsageTracker;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * Anthropic Messages client to an Anthropic provider: the request passes through with the model
 * renamed, thinking blocks and their signatures byte for byte; events are passed on as they come,
 * with the model renamed in {@code message_start}.
 */
public final class AnthropicPassThrough implements Translator {

  @Override
  public JsonObject request(JsonObject client, String upstreamModel, boolean stream,
      List<String> warnings) {
    JsonObject body = new JsonObject(new LinkedHashMap<>(client.getMap()));
    body.put("model", upstreamModel);
    if (stream) {
      body.put("stream", true);
    } else {
      body.remove("stream");
    }
    return body;
  }

  @Override
  public Translated response(JsonObject upstream, String clientModel) {
    if (!(upstream.getValue("content") instanceof JsonArray)) {
      return null;
    }
    JsonObject body = new JsonObject(new LinkedHashMap<>(upstream.getMap()));
    body.put("model", clientModel);
    return new Translated(body, Usage.fromAnthropic(body.getValue("usage")));
  }

  @Override
  public StreamTranslator stream(StreamContext context) {
    return new Events(context.clientModel());
  }

  /** Passes events on, noting content and usage as they go by. */
  private static final class Events implements StreamTranslator {

    private final String model;
    private final AnthropicUsageTracker usage = new AnthropicUsageTracker();
    private boolean content;
    private long deliveredChars;

    Events(String model) {
      this.model = model;
    }

    @Override
    public List<ClientEvent> accept(String event, JsonObject data) {
      String type = data.getValue("type") instanceof String t ? t : event;
      usage.read(type, data);
      JsonObject out = data;
      if (type.equals("message_start") && data.getValue("message") instanceof JsonObject m) {
        out = new JsonObject(new LinkedHashMap<>(data.getMap()))
            .put("message", new JsonObject(new LinkedHashMap<>(m.getMap())).put("model", model));
      } else if (type.equals("content_block_start") || type.equals("content_block_delta")
          || type.equals("message_delta")) {
        content = true;
        if (data.getValue("delta") instanceof JsonObject d) {
          for (String field : new String[] {"text", "partial_json", "thinking"}) {
            if (d.getValue(field) instanceof String s) {
              deliveredChars += s.length();
            }
          }
        }
      }
      return List.of(new ClientEvent(type, out));
    }

    @Override
    public boolean hasContent() {
      return content;
    }

    @Override
    public List<ClientEvent> end(Usage finalUsage) {
      return List.of();
    }

    @Override
    public ClientEvent failure(String code, String message) {
      return AnthropicEvents.error(message);
    }

    @Override
    public Usage reportedUsage() {
      return usage.usage();
    }

    @Override
    public long deliveredChars() {
      return deliveredChars;
    }
  }
}
