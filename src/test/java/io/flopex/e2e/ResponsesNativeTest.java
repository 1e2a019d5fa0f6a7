package io.flopex.e2e;

import static io.flopex.testing.FakeUpstream.fixture;
import static io.flopex.testing.FakeUpstream.json;
import static io.flopex.testing.ResponsesEvents.text;
import static org.assertj.core.api.Assertions.assertThat;

import com.openai.client.OpenAIClient;
import com.openai.core.http.StreamResponse;
import com.openai.helpers.ResponseAccumulator;
import com.openai.models.responses.Response;
import com.openai.models.responses.ResponseCreateParams;
import com.openai.models.responses.ResponseFunctionToolCall;
import com.openai.models.responses.ResponseStatus;
import com.openai.models.responses.ResponseStreamEvent;
import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.ResponsesEvents;
import io.flopex.testing.ResponsesEvents.Event;
import io.flopex.testing.Sync;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Responses API passed as written to a provider that serves it natively (OpenAI): the official
 * SDK's {@code responses()} client on one side, an upstream speaking the Responses wire format on
 * the other; metering, cost, failover and the no-storage promise as on every other path.
 */
class ResponsesNativeTest {

  private static final String CANARY_IN = "canary-native-input-5b1e";
  private static final String CANARY_OUT = "canary-native-output-9c2f";

  private static Vertx vertx;
  private static FakeUpstream openai;
  private static FakeUpstream groq;
  private static Gateway gateway;
  private static OpenAIClient client;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    openai = FakeUpstream.start(vertx);
    groq = FakeUpstream.start(vertx);
    JsonObject timeouts = new JsonObject().put("connectMs", 1000).put("firstByteMs", 5000)
        .put("idleMs", 5000).put("responseMs", 10000);
    gateway = Gateway.builder(vertx)
        // kind openai: the Responses API is served natively unless configured otherwise
        .provider("openai", "openai", openai.baseUrl(), "sk-oai", timeouts)
        .provider("groq", groq.baseUrl())
        .model("openai-m", "openai")
        .model("openai-then-groq", "openai", "groq")
        .start();
    client = gateway.openAi();
  }

  @AfterAll
  static void stop() {
    gateway.close();
    openai.close();
    groq.close();
    Sync.await(vertx.close());
  }

  // ---- what an OpenAI upstream answers, in the Responses wire format ----

  private static JsonObject usage() {
    return new JsonObject().put("input_tokens", 120)
        .put("input_tokens_details", new JsonObject().put("cached_tokens", 40))
        .put("output_tokens", 30)
        .put("output_tokens_details", new JsonObject().put("reasoning_tokens", 10))
        .put("total_tokens", 150);
  }

  private static JsonObject message(String text) {
    return new JsonObject().put("id", "msg_up1").put("type", "message").put("status", "completed")
        .put("role", "assistant").put("content", new JsonArray().add(new JsonObject()
            .put("type", "output_text").put("text", text).put("annotations", new JsonArray())));
  }

  private static JsonObject response(String status, JsonArray output, JsonObject usage) {
    return new JsonObject().put("id", "resp_up1").put("object", "response")
        .put("created_at", 1_760_000_000L).put("status", status).putNull("error")
        .putNull("incomplete_details").put("model", "up-openai-2025").put("output", output)
        .put("parallel_tool_calls", true).put("store", true).put("temperature", 1.0)
        .put("tool_choice", "auto").put("tools", new JsonArray()).put("top_p", 1.0)
        .put("usage", usage);
  }

  /** A stream as OpenAI writes it: typed events, numbered, no [DONE]. */
  private static List<String> streamFrames(List<String> deltas, boolean complete) {
    List<JsonObject> events = new ArrayList<>();
    events.add(new JsonObject().put("type", "response.created")
        .put("response", response("in_progress", new JsonArray(), null)));
    events.add(new JsonObject().put("type", "response.in_progress")
        .put("response", response("in_progress", new JsonArray(), null)));
    events.add(new JsonObject().put("type", "response.output_item.added").put("output_index", 0)
        .put("item", new JsonObject().put("id", "msg_up1").put("type", "message")
            .put("status", "in_progress").put("role", "assistant")
            .put("content", new JsonArray())));
    events.add(new JsonObject().put("type", "response.content_part.added")
        .put("item_id", "msg_up1").put("output_index", 0).put("content_index", 0)
        .put("part", new JsonObject().put("type", "output_text").put("text", "")
            .put("annotations", new JsonArray())));
    StringBuilder text = new StringBuilder();
    for (String d : deltas) {
      text.append(d);
      events.add(new JsonObject().put("type", "response.output_text.delta")
          .put("item_id", "msg_up1").put("output_index", 0).put("content_index", 0)
          .put("delta", d));
    }
    if (complete) {
      events.add(new JsonObject().put("type", "response.output_text.done")
          .put("item_id", "msg_up1").put("output_index", 0).put("content_index", 0)
          .put("text", text.toString()));
      events.add(new JsonObject().put("type", "response.output_item.done")
          .put("output_index", 0).put("item", message(text.toString())));
      events.add(new JsonObject().put("type", "response.completed").put("response",
          response("completed", new JsonArray().add(message(text.toString())), usage())));
    }
    List<String> frames = new ArrayList<>();
    for (int i = 0; i < events.size(); i++) {
      JsonObject e = events.get(i).put("sequence_number", i);
      frames.add("event: " + e.getString("type") + "\ndata: " + e.encode() + "\n\n");
    }
    return frames;
  }

  private static ResponseCreateParams.Builder params(String model) {
    return ResponseCreateParams.builder().model(model).instructions("Be brief.")
        .input("Say hello. " + CANARY_IN).maxOutputTokens(256L);
  }

  private static HttpResponse<String> post(JsonObject body, String requestId) {
    return gateway.post("/v1/responses", body.encode(), requestId);
  }

  // ---- the tests ----

  @Test
  void theRequestGoesAsWrittenAndTheAnswerComesBackWithItsCost() {
    openai.then(json(200, response("completed",
        new JsonArray().add(message("Hello! " + CANARY_OUT)), usage()).encode()));

    Response answer = client.responses().create(params("openai-m")
        .putAdditionalBodyProperty("provider", com.openai.core.JsonValue.from(
            java.util.Map.of("sort", "price")))
        .build());

    FakeUpstream.Received sent = openai.lastRequest();
    assertThat(sent.path()).isEqualTo("/v1/responses");
    assertThat(sent.headers().get("authorization")).isEqualTo("Bearer sk-oai");
    JsonObject body = sent.body();
    assertThat(body.getString("model")).isEqualTo("up-openai");
    assertThat(body.getString("input")).isEqualTo("Say hello. " + CANARY_IN);
    assertThat(body.getString("instructions")).isEqualTo("Be brief.");
    assertThat(body.getInteger("max_output_tokens")).isEqualTo(256);
    assertThat(body.getBoolean("store")).isFalse();
    assertThat(body.fieldNames()).doesNotContain("messages", "provider", "models", "stream");

    assertThat(answer.model().asString()).isEqualTo("openai-m");
    assertThat(answer.status()).hasValue(ResponseStatus.COMPLETED);
    assertThat(answer._additionalProperties().get("store").asBoolean()).hasValue(false);
    assertThat(text(answer)).isEqualTo("Hello! " + CANARY_OUT);
    assertThat(answer.usage().get().inputTokens()).isEqualTo(120);
    assertThat(answer.usage().get().inputTokensDetails().cachedTokens()).isEqualTo(40);
    assertThat(answer.usage().get().outputTokensDetails().reasoningTokens()).isEqualTo(10);
    assertThat(answer.usage().get()._additionalProperties().get("cost_micros")).isNotNull();
  }

  @Test
  void usageIsMeteredFromTheResponsesUsageAndNothingOfTheConversationIsKept() {
    openai.then(json(200, response("completed",
        new JsonArray().add(message("Hello! " + CANARY_OUT)), usage()).encode()));
    String requestId = UUID.randomUUID().toString();

    HttpResponse<String> answer = post(new JsonObject().put("model", "openai-m")
        .put("input", "Say hello. " + CANARY_IN), requestId);

    assertThat(answer.statusCode()).isEqualTo(200);
    Row row = gateway.awaitUsageRow(requestId);
    assertThat(row.getLong("prompt_tokens")).isEqualTo(120);
    assertThat(row.getLong("completion_tokens")).isEqualTo(30);
    assertThat(row.getLong("cached_tokens")).isEqualTo(40);
    assertThat(row.getLong("reasoning_tokens")).isEqualTo(10);
    assertThat(row.getBoolean("tokens_estimated")).isFalse();
    long cost = new JsonObject(answer.body()).getJsonObject("usage").getLong("cost_micros");
    assertThat(cost).isPositive().isEqualTo(row.getLong("cost_micros"));
    assertThat(gateway.databaseDump()).doesNotContain(CANARY_IN).doesNotContain(CANARY_OUT);
  }

  @Test
  void b03_theStreamIsTheProvidersEventsInOrderEndingInOneCompletedResponseWithCost() {
    List<String> deltas = List.of("Hel", "lo", "! ", CANARY_OUT);
    openai.then(FakeUpstream.writes(streamFrames(deltas, true), 0, true));
    String requestId = UUID.randomUUID().toString();

    HttpResponse<String> answer = post(new JsonObject().put("model", "openai-m")
        .put("input", "Say hello.").put("stream", true), requestId);

    assertThat(openai.lastRequest().body().getBoolean("stream")).isTrue();
    List<Event> events = ResponsesEvents.of(answer.body());
    assertThat(events).extracting(Event::name).containsExactly("response.created",
        "response.in_progress", "response.output_item.added", "response.content_part.added",
        "response.output_text.delta", "response.output_text.delta",
        "response.output_text.delta", "response.output_text.delta",
        "response.output_text.done", "response.output_item.done", "response.completed");
    for (int i = 0; i < events.size(); i++) {
      assertThat(events.get(i).data().getInteger("sequence_number")).isEqualTo(i);
      assertThat(events.get(i).data().getString("type")).isEqualTo(events.get(i).name());
    }
    JsonObject completed = events.get(events.size() - 1).data().getJsonObject("response");
    assertThat(completed.getString("model")).isEqualTo("openai-m");
    assertThat(completed.getBoolean("store")).isFalse();
    assertThat(events.get(0).data().getJsonObject("response").getString("model"))
        .isEqualTo("openai-m");
    Row row = gateway.awaitUsageRow(requestId);
    assertThat(row.getLong("prompt_tokens")).isEqualTo(120);
    assertThat(row.getBoolean("streamed")).isTrue();
    assertThat(completed.getJsonObject("usage").getLong("cost_micros"))
        .isEqualTo(row.getLong("cost_micros"));
  }

  @Test
  void theSdkRebuildsTheStreamedResponse() {
    openai.then(FakeUpstream.writes(streamFrames(List.of("Hi", " there"), true), 0, true));

    ResponseAccumulator accumulator = ResponseAccumulator.createWithSnapshots();
    try (StreamResponse<ResponseStreamEvent> stream =
        client.responses().createStreaming(params("openai-m").build())) {
      stream.stream().forEach(accumulator::accumulate);
    }

    Response completed = accumulator.response();
    assertThat(text(completed)).isEqualTo("Hi there");
    assertThat(text(accumulator.reconstructedResponse())).isEqualTo("Hi there");
    assertThat(completed.usage().get().outputTokens()).isEqualTo(30);
  }

  @Test
  void functionCallsPassThrough() {
    JsonObject call = new JsonObject().put("id", "fc_up1").put("type", "function_call")
        .put("status", "completed").put("call_id", "call_9").put("name", "weather")
        .put("arguments", "{\"city\":\"Paris\"}");
    openai.then(json(200, response("completed", new JsonArray().add(call), usage()).encode()));

    Response answer = client.responses().create(params("openai-m").build());

    List<ResponseFunctionToolCall> calls = answer.output().stream()
        .flatMap(item -> item.functionCall().stream()).toList();
    assertThat(calls).hasSize(1);
    assertThat(calls.get(0).name()).isEqualTo("weather");
    assertThat(calls.get(0).callId()).isEqualTo("call_9");
    assertThat(calls.get(0).arguments()).isEqualTo("{\"city\":\"Paris\"}");
  }

  @Test
  void b06a_failoverBeforeContentIsInvisible() {
    int groqCalls = groq.calls();
    openai.then(json(503, FakeUpstream.openAiError("overloaded", "server_error", null)));
    groq.then(json(200, fixture("openai/openai-text.json")));

    Response answer = client.responses().create(params("openai-then-groq").build());

    assertThat(answer.status()).hasValue(ResponseStatus.COMPLETED);
    assertThat(text(answer)).startsWith("**Holiday Name:** Galaxy Day");
    assertThat(groq.calls()).isEqualTo(groqCalls + 1);
    // groq is not known to serve the Responses API: it was sent Chat Completions
    assertThat(groq.lastRequest().path()).isEqualTo("/v1/chat/completions");
  }

  @Test
  void b06b_aCutAfterContentEndsWithResponseFailedNumberedAfterTheLastEvent() {
    int groqCalls = groq.calls();
    openai.then(FakeUpstream.writes(streamFrames(List.of("t0 ", "t1 ", "t2 "), false), 0,
        false));
    String requestId = UUID.randomUUID().toString();

    HttpResponse<String> answer = post(new JsonObject().put("model", "openai-then-groq")
        .put("input", "count").put("stream", true), requestId);

    List<Event> events = ResponsesEvents.of(answer.body());
    Event last = events.get(events.size() - 1);
    assertThat(last.name()).isEqualTo("response.failed");
    assertThat(last.data().getInteger("sequence_number")).isEqualTo(events.size() - 1);
    assertThat(last.data().getJsonObject("response").getString("status")).isEqualTo("failed");
    assertThat(last.data().getJsonObject("response").getString("model")).isEqualTo(
        "openai-then-groq");
    assertThat(events).extracting(Event::name).doesNotContain("response.completed");
    assertThat(groq.calls()).isEqualTo(groqCalls);
    Row row = gateway.awaitUsageRow(requestId);
    assertThat(row.getString("outcome")).isEqualTo("stream_interrupted");
  }

  @Test
  void anErrorEventBeforeContentFailsOver() {
    int groqCalls = groq.calls();
    List<String> frames = new ArrayList<>(streamFrames(List.of(), false));
    frames.add("event: error\ndata: {\"type\":\"error\",\"code\":\"server_error\","
        + "\"message\":\"overloaded\",\"sequence_number\":4}\n\n");
    openai.then(FakeUpstream.writes(frames, 0, true));
    groq.then(FakeUpstream.sse(FakeUpstream.fixtureEvents("openai/openai-text.chunks.txt")));

    HttpResponse<String> answer = post(new JsonObject().put("model", "openai-then-groq")
        .put("input", "hi").put("stream", true), UUID.randomUUID().toString());

    List<Event> events = ResponsesEvents.of(answer.body());
    assertThat(events.get(0).name()).isEqualTo("response.created");
    assertThat(events).extracting(Event::name).containsOnlyOnce("response.created")
        .doesNotContain("error", "response.failed");
    assertThat(events.get(events.size() - 1).name()).isEqualTo("response.completed");
    assertThat(groq.calls()).isEqualTo(groqCalls + 1);
  }

  @Test
  void storedStateIsRefusedBeforeAnyUpstreamCall() {
    int calls = openai.calls();

    HttpResponse<String> refused = post(new JsonObject().put("model", "openai-m")
        .put("input", "hi").put("previous_response_id", "resp_1"), UUID.randomUUID().toString());

    assertThat(refused.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(refused.body()).getJsonObject("error").getString("param"))
        .isEqualTo("previous_response_id");
    assertThat(openai.calls()).isEqualTo(calls);
  }
}
