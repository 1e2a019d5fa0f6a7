package io.flopex.translate.responses;

import io.flopex.bus.Usage;
import io.flopex.translate.ClientEvent;
import io.flopex.translate.StreamTranslator;
import io.flopex.translate.Translated;
import io.flopex.translate.Translator;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;

/**
 * OpenAI Responses client to a provider that serves the Responses API natively (OpenAI itself):
 * the request goes as the client wrote it (after validation), with the upstream model's name and
 * {@code store} forced off, since Flopex promises that no conversation is kept anywhere; the
 * answer and the stream's events come back as the provider wrote them, named after the client's
 * model, with the usage Flopex metered and its cost.
 *
 * <p>The stream's {@code response.completed} (or {@code response.incomplete}) is held until the
 * gateway has metered the request, then sent with the cost; a stream that fails after content ends
 * with a {@code response.failed} of Flopex's own, numbered after the provider's last event.
 */
public final class ResponsesPassThrough implements Translator {

  /** Events that say a response began, and describe it. */
  private static final Set<String> OPENING =
      Set.of("response.created", "response.in_progress", "response.queued");
  private static final Set<String> CLOSING = Set.of("response.completed", "response.incomplete");

  @Override
  public boolean responsesApi() {
    return true;
  }

  @Override
  public JsonObject request(JsonObject chatRequest, String upstreamModel, boolean stream,
      List<String> warnings) {
    throw new IllegalStateException("a Responses request is passed on as the client wrote it");
  }

  @Override
  public JsonObject request(JsonObject chatRequest, JsonObject original, String upstreamModel,
      boolean stream, List<String> warnings) {
    // A shallow copy: only top-level fields change; the input items are shared read-only.
    JsonObject body = new JsonObject(new LinkedHashMap<>(original.getMap()));
    body.put("model", upstreamModel);
    body.put("store", false);
    // What the client was told is dropped (at validation, for every provider) is dropped here
    // too, so the warnings hold and the worst case reserved covers what is sent.
    body.remove("include");
    body.remove("truncation");
    if (body.getValue("reasoning") instanceof JsonObject reasoning
        && reasoning.containsKey("summary")) {
      JsonObject kept = reasoning.copy();
      kept.remove("summary");
      body.put("reasoning", kept);
    }
    if (body.getValue("input") instanceof JsonArray items) {
      JsonArray kept = new JsonArray();
      for (Object item : items) {
        if (!(item instanceof JsonObject o && "reasoning".equals(o.getValue("type")))) {
          kept.add(item);
        }
      }
      body.put("input", kept);
    }
    if (stream) {
      body.put("stream", true);
    } else {
      body.remove("stream");
      body.remove("stream_options");
    }
    return body;
  }

  @Override
  public Translated response(JsonObject upstreamBody, String clientModel) {
    if (!"response".equals(upstreamBody.getValue("object"))
        || !(upstreamBody.getValue("output") instanceof JsonArray)) {
      return null;
    }
    JsonObject body = renamed(upstreamBody, clientModel);
    return new Translated(body, Usage.fromResponses(body.getValue("usage")));
  }

  /** A response object named after the client's model, and saying it is not stored. */
  private static JsonObject renamed(JsonObject response, String clientModel) {
    JsonObject body = new JsonObject(new LinkedHashMap<>(response.getMap()));
    body.put("model", clientModel);
    body.put("store", false);
    if (body.getValue("usage") instanceof JsonObject usage) {
      // The gateway adds the cost to it.
      body.put("usage", usage.copy());
    }
    return body;
  }

  @Override
  public StreamTranslator stream(StreamContext context) {
    return new Relay(context.clientModel());
  }

  /** Passes one stream's events on, holding back the closing one. */
  private static final class Relay implements StreamTranslator {

    private final String clientModel;
    /** The response as the opening events described it, for a failure of Flopex's own. */
    private JsonObject snapshot;
    private final JsonArray doneItems = new JsonArray();
    private JsonObject closing;
    private String closingType;
    private Usage usage;
    private long lastSequence = -1;
    private boolean content;
    private long chars;

    Relay(String clientModel) {
      this.clientModel = clientModel;
    }

    @Override
    public List<ClientEvent> accept(String event, JsonObject data) {
      if (data == null) {
        return List.of();
      }
      String type = data.getValue("type") instanceof String t ? t : event;
      if (type == null) {
        return List.of();
      }
      if (data.getValue("sequence_number") instanceof Number n) {
        lastSequence = Math.max(lastSequence, n.longValue());
      }
      JsonObject out = data;
      if (data.getValue("response") instanceof JsonObject response) {
        JsonObject named = renamed(response, clientModel);
        out = new JsonObject(new LinkedHashMap<>(data.getMap())).put("response", named);
        if (OPENING.contains(type)) {
          snapshot = named;
        }
      }
      if (type.endsWith(".delta") || type.endsWith(".done") || CLOSING.contains(type)) {
        // Output the client sees; the items and parts announced before it are held back with
        // the opening events, so that a provider failing before it is invisible.
        content = true;
      }
      if (data.getValue("delta") instanceof String delta) {
        chars += delta.length();
      }
      if ("response.output_item.done".equals(type)
          && data.getValue("item") instanceof JsonObject item) {
        doneItems.add(item);
      }
      if (CLOSING.contains(type)) {
        if (!(out.getValue("response") instanceof JsonObject)) {
          throw new IllegalArgumentException(type + " without its response");
        }
        closing = out;
        closingType = type;
        usage = out.getValue("response") instanceof JsonObject r
            ? Usage.fromResponses(r.getValue("usage")) : null;
        return List.of();
      }
      return List.of(new ClientEvent(type, out));
    }

    @Override
    public boolean hasContent() {
      return content;
    }

    @Override
    public List<ClientEvent> end(Usage finalUsage) {
      JsonObject event = closing;
      String type = closingType;
      if (event == null) {
        // The transport ends a stream cleanly only after its closing event; never claim a
        // completion the provider did not send.
        return List.of(failure("server_error", "The provider's stream ended without its"
            + " closing event."));
      }
      JsonObject response = event.getJsonObject("response");
      if (finalUsage != null && (usage == null || !usage.equals(finalUsage))) {
        // Estimated by the gateway: report what was metered.
        response.put("usage", ResponseObjects.usage(finalUsage));
      } else if (!(response.getValue("usage") instanceof JsonObject)) {
        response.put("usage", finalUsage == null ? null : ResponseObjects.usage(finalUsage));
      }
      return List.of(new ClientEvent(type, event));
    }

    @Override
    public ClientEvent failure(String code, String message) {
      JsonObject response = (snapshot == null ? new JsonObject().put("object", "response")
          .put("model", clientModel) : snapshot.copy())
          .put("status", "failed")
          .put("output", doneItems.copy())
          .put("error", new JsonObject().put("code", "server_error").put("message", message));
      return new ClientEvent("response.failed", new JsonObject()
          .put("type", "response.failed")
          .put("response", response)
          .put("sequence_number", ++lastSequence));
    }

    @Override
    public Usage reportedUsage() {
      return usage;
    }

    @Override
    public long deliveredChars() {
      return chars;
    }
  }
}
