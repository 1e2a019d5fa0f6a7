package io.flopex.e2e;

import static io.flopex.testing.FakeUpstream.anthropicSse;
import static io.flopex.testing.FakeUpstream.fixture;
import static io.flopex.testing.FakeUpstream.fixtureEvents;
import static io.flopex.testing.FakeUpstream.json;
import static io.flopex.testing.FakeUpstream.sse;
import static io.flopex.testing.ResponsesEvents.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.openai.client.OpenAIClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.helpers.ResponseAccumulator;
import com.openai.models.responses.EasyInputMessage;
import com.openai.models.responses.FunctionTool;
import com.openai.models.responses.Response;
import com.openai.models.responses.ResponseCreateParams;
import com.openai.models.responses.ResponseFunctionToolCall;
import com.openai.models.responses.ResponseInputItem;
import com.openai.models.responses.ResponseOutputItem;
import com.openai.models.responses.ResponseStatus;
import com.openai.models.responses.ResponseStreamEvent;
import io.flopex.testing.Chunks;
import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.ResponsesEvents;
import io.flopex.testing.ResponsesEvents.Event;
import io.flopex.testing.Sync;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Row;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The official OpenAI Java SDK's {@code responses()} client against {@code /v1/responses},
 * served by every kind of provider from recorded answers, by way of Chat Completions.
 */
class ResponsesApiTest {

  private static Vertx vertx;
  private static FakeUpstream openai;
  private static FakeUpstream claude;
  private static FakeUpstream gemini;
  private static FakeUpstream groq;
  private static Gateway gateway;
  private static OpenAIClient client;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    openai = FakeUpstream.start(vertx);
    claude = FakeUpstream.start(vertx);
    gemini = FakeUpstream.start(vertx);
    groq = FakeUpstream.start(vertx);
    JsonObject timeouts = new JsonObject().put("connectMs", 1000).put("firstByteMs", 5000)
        .put("idleMs", 5000).put("responseMs", 10000);
    gateway = Gateway.builder(vertx)
        .provider("openai", "openai", openai.baseUrl(), "sk-oai", timeouts)
        // Through Chat Completions, as for every other provider; ResponsesNativeTest covers an
        // OpenAI provider that is sent Responses requests as written.
        .providerSetting("openai", "nativeResponses", false)
        .provider("claude", "anthropic", claude.rootUrl(), "sk-ant", timeouts)
        .provider("gemini", "gemini", gemini.rootUrl(), "AIza-gem", timeouts)
        .provider("groq", groq.baseUrl())
        .model("openai-m", "openai")
        .model("claude-m", "claude")
        .model("gemini-m", "gemini")
        .model("groq-m", "groq")
        .model("claude-then-openai", "claude", "openai")
        .model("openai-then-groq", "openai", "groq")
        .start();
    client = gateway.openAi();
  }

  @AfterAll
  static void stop() {
    gateway.close();
    openai.close();
    claude.close();
    gemini.close();
    groq.close();
    Sync.await(vertx.close());
  }

  private static ResponseCreateParams.Builder params(String model) {
    return ResponseCreateParams.builder()
        .model(model)
        .instructions("Be brief.")
        .input("Hello, how are you?")
        .maxOutputTokens(1024L);
  }

  private static FunctionTool weather() {
    return FunctionTool.builder().name("weather")
        .parameters(FunctionTool.Parameters.builder()
            .putAdditionalProperty("type", JsonValue.from("object"))
            .putAdditionalProperty("properties", JsonValue.from(Map.of()))
            .build())
        .strict(false)
        .build();
  }

  private static List<ResponseFunctionToolCall> calls(Response response) {
    return response.output().stream().flatMap(item -> item.functionCall().stream()).toList();
  }

  /** The response a stream ends with, checked against the one its events rebuild. */
  private static Response streamed(ResponseCreateParams params) {
    ResponseAccumulator accumulator = ResponseAccumulator.createWithSnapshots();
    try (StreamResponse<ResponseStreamEvent> stream =
        client.responses().createStreaming(params)) {
      stream.stream().forEach(accumulator::accumulate);
    }
    Response rebuilt = accumulator.reconstructedResponse();
    Response completed = accumulator.response();
    assertThat(text(rebuilt)).isEqualTo(text(completed));
    assertThat(calls(rebuilt)).hasSameSizeAs(calls(completed));
    return completed;
  }

  private static String chunkText(String fixture) {
    StringBuilder expected = new StringBuilder();
    for (String e : fixtureEvents(fixture)) {
      JsonArray choices = new JsonObject(e).getJsonArray("choices");
      if (!choices.isEmpty()) {
        String c = choices.getJsonObject(0).getJsonObject("delta").getString("content");
        expected.append(c == null ? "" : c);
      }
    }
    return expected.toString();
  }

  private static HttpResponse<String> post(JsonObject body) {
    return gateway.post("/v1/responses", body.encode(), UUID.randomUUID().toString());
  }

  private static JsonObject request(String model, boolean stream) {
    return new JsonObject().put("model", model).put("input", "hi").put("stream", stream);
  }

  // ---- every provider kind, streaming and not ----

  @Test
  void openAiUpstreamAnswersInResponsesShape() {
    openai.then(json(200, fixture("openai/openai-text.json")));

    Response response = client.responses().create(params("openai-m").build());

    assertThat(response.id()).startsWith("resp_");
    assertThat(response.model().asString()).isEqualTo("openai-m");
    assertThat(response.status()).hasValue(ResponseStatus.COMPLETED);
    assertThat(text(response)).startsWith("**Holiday Name:** Galaxy Day");
    assertThat(response.usage().get().inputTokens()).isEqualTo(16);
    assertThat(response.usage().get().outputTokens()).isEqualTo(363);
    assertThat(response.usage().get().totalTokens()).isEqualTo(379);
    assertThat(response.instructions()).isPresent();
    JsonObject sent = openai.lastRequest().body();
    assertThat(sent.getString("model")).isEqualTo("up-openai");
    assertThat(sent.getJsonArray("messages")).isEqualTo(new JsonArray()
        .add(new JsonObject().put("role", "system").put("content", "Be brief."))
        .add(new JsonObject().put("role", "user").put("content", "Hello, how are you?")));
    assertThat(sent.getInteger("max_completion_tokens")).isEqualTo(1024);
    assertThat(sent.fieldNames()).doesNotContain("input", "instructions", "max_output_tokens",
        "store");
  }

  @Test
  void theWireAnswerSaysItIsNotStoredAndCarriesCost() {
    openai.then(json(200, fixture("openai/openai-text.json")));

    HttpResponse<String> response = post(request("openai-m", false).put("store", true));

    assertThat(response.statusCode()).isEqualTo(200);
    JsonObject body = new JsonObject(response.body());
    assertThat(body.getString("object")).isEqualTo("response");
    assertThat(body.getBoolean("store")).isFalse();
    assertThat(body.containsKey("output_text")).isFalse();
    JsonObject usage = body.getJsonObject("usage");
    assertThat(usage.getJsonObject("input_tokens_details").getLong("cached_tokens")).isZero();
    assertThat(usage.getJsonObject("output_tokens_details").getLong("reasoning_tokens"))
        .isZero();
    assertThat(usage.getLong("cost_micros")).isPositive();
    assertThat(response.headers().firstValue("x-flopex-warnings")).hasValueSatisfying(
        w -> assertThat(w).contains("store"));
  }

  @Test
  void openAiUpstreamStreamsResponsesEvents() {
    openai.then(sse(fixtureEvents("openai/openai-text.chunks.txt")));

    Response response = streamed(params("openai-m").build());

    assertThat(text(response)).isEqualTo(chunkText("openai/openai-text.chunks.txt"));
    assertThat(response.status()).hasValue(ResponseStatus.COMPLETED);
    assertThat(response.usage().get().outputTokens()).isEqualTo(300);
    JsonObject sent = openai.lastRequest().body();
    assertThat(sent.getBoolean("stream")).isTrue();
    assertThat(sent.getJsonObject("stream_options").getBoolean("include_usage")).isTrue();
  }

  @Test
  void anthropicUpstreamAnswersAndStreams() {
    claude.then(json(200, fixture("anthropic/anthropic-text.json")));
    Response plain = client.responses().create(params("claude-m").build());
    assertThat(text(plain)).startsWith("Hello! I'm doing well");
    assertThat(plain.usage().get().inputTokens()).isEqualTo(12);
    JsonObject sent = claude.lastRequest().body();
    assertThat(sent.getJsonArray("system").getJsonObject(0).getString("text"))
        .isEqualTo("Be brief.");
    assertThat(sent.getInteger("max_tokens")).isEqualTo(1024);

    claude.then(anthropicSse(fixtureEvents("anthropic/anthropic-text.chunks.txt"), 0, true));
    Response streamed = streamed(params("claude-m").build());
    assertThat(text(streamed)).isEqualTo("Hello! I'm doing well, thank you for asking. How are"
        + " you doing today? Is there anything I can help you with?");
    assertThat(streamed.usage().get().outputTokens()).isEqualTo(30);
  }

  @Test
  void anthropicToolUseBecomesAFunctionCallStreamingAndNot() {
    claude.then(json(200, fixture("anthropic/anthropic-json-tool.1.json")));
    Response plain = client.responses().create(params("claude-m").addTool(weather()).build());
    claude.then(anthropicSse(fixtureEvents("anthropic/anthropic-json-tool.1.chunks.txt"), 0,
        true));
    Response streamed = streamed(params("claude-m").addTool(weather()).build());

    for (Response response : List.of(plain, streamed)) {
      ResponseFunctionToolCall call = calls(response).get(0);
      assertThat(call.name()).isEqualTo("json");
      assertThat(call.callId()).startsWith("toolu_");
      assertThat(new JsonObject(call.arguments()).getJsonArray("elements").getJsonObject(0)
          .getString("location")).isEqualTo("San Francisco");
    }
    JsonObject sentTool = claude.lastRequest().body().getJsonArray("tools").getJsonObject(0);
    assertThat(sentTool.getString("name")).isEqualTo("weather");
  }

  @Test
  void geminiUpstreamAnswersAndStreams() {
    gemini.then(json(200, fixture("google/google-text.json")));
    Response plain = client.responses().create(params("gemini-m").build());
    assertThat(text(plain)).startsWith("There are **3** r's in strawberry.");
    assertThat(plain.usage().get().outputTokens()).isEqualTo(28 + 244);
    assertThat(plain.usage().get().outputTokensDetails().reasoningTokens()).isEqualTo(244);
    assertThat(gemini.lastRequest().body().getJsonObject("systemInstruction").encode())
        .contains("Be brief.");

    gemini.then(sse(fixtureEvents("google/google-text.chunks.txt"), 0, false));
    Response streamed = streamed(params("gemini-m").build());
    assertThat(text(streamed)).isEqualTo("There are **3** \"r\"s in strawberry.\n\n"
        + "st**r**awbe**rr**y");
  }

  @Test
  void geminiFunctionCallsStreamingAndNot() {
    gemini.then(json(200, fixture("google/google-tool-call.json")));
    Response plain = client.responses().create(params("gemini-m").addTool(weather()).build());
    gemini.then(sse(fixtureEvents("google/google-tool-call.chunks.txt"), 0, false));
    Response streamed = streamed(params("gemini-m").addTool(weather()).build());

    for (Response response : List.of(plain, streamed)) {
      assertThat(calls(response)).extracting(ResponseFunctionToolCall::name)
          .containsExactly("weather");
      assertThat(new JsonObject(calls(response).get(0).arguments())).isNotNull();
    }
    assertThat(gemini.lastRequest().body().getJsonArray("tools").encode())
        .contains("functionDeclarations").contains("weather");
  }

  @Test
  void openAiCompatibleUpstreamAnswersTextAndFunctionCalls() {
    groq.then(json(200, fixture("groq/groq-text.json")));
    Response text = client.responses().create(params("groq-m").build());
    assertThat(text(text)).isEqualTo(new JsonObject(fixture("groq/groq-text.json"))
        .getJsonArray("choices").getJsonObject(0).getJsonObject("message")
        .getString("content"));
    assertThat(groq.lastRequest().body().getInteger("max_tokens")).isEqualTo(1024);

    groq.then(sse(fixtureEvents("groq/groq-text.chunks.txt")));
    assertThat(text(streamed(params("groq-m").build())))
        .isEqualTo(chunkText("groq/groq-text.chunks.txt"));

    groq.then(json(200, fixture("groq/groq-tool-call.json")));
    Response plain = client.responses().create(params("groq-m").addTool(weather()).build());
    assertThat(calls(plain)).singleElement().satisfies(call -> {
      assertThat(call.callId()).isEqualTo("ax9fskhev");
      assertThat(call.name()).isEqualTo("weather");
      assertThat(call.arguments()).isEqualTo("{}");
    });

    groq.then(sse(fixtureEvents("groq/groq-tool-call.chunks.txt")));
    Response streamed = streamed(params("groq-m").addTool(weather()).build());
    assertThat(calls(streamed)).singleElement().satisfies(call -> {
      assertThat(call.callId()).isEqualTo("tk85n1k4m");
      assertThat(call.name()).isEqualTo("weather");
    });
    assertThat(streamed.usage().get().totalTokens()).isEqualTo(225);
    JsonObject sentTool = groq.lastRequest().body().getJsonArray("tools").getJsonObject(0);
    assertThat(sentTool.getString("type")).isEqualTo("function");
    assertThat(sentTool.getJsonObject("function").getString("name")).isEqualTo("weather");
  }

  @Test
  void b09_interleavedParallelToolCallsBecomeOneFunctionCallItemEach() {
    groq.then(sse(List.of(Chunks.role(), toolDelta(0, "c0", "first", "{\"x\""),
        toolDelta(1, "c1", "second", "{\"y\""), toolDelta(0, null, null, ":1}"),
        toolDelta(1, null, null, ":2}"), Chunks.finish("tool_calls"), Chunks.usage(5, 9))));

    Response response = streamed(params("groq-m").addTool(weather()).build());

    assertThat(calls(response)).extracting(ResponseFunctionToolCall::callId,
            ResponseFunctionToolCall::name, ResponseFunctionToolCall::arguments)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("c0", "first", "{\"x\":1}"),
            org.assertj.core.groups.Tuple.tuple("c1", "second", "{\"y\":2}"));
  }

  private static String toolDelta(int index, String id, String name, String arguments) {
    JsonObject function = new JsonObject().put("arguments", arguments);
    JsonObject call = new JsonObject().put("index", index).put("function", function);
    if (id != null) {
      call.put("id", id).put("type", "function");
      function.put("name", name);
    }
    return new JsonObject(Chunks.role()).put("choices", new JsonArray().add(new JsonObject()
        .put("index", 0).put("delta", new JsonObject().put("tool_calls",
            new JsonArray().add(call))).putNull("finish_reason"))).encode();
  }

  // ---- a function call and its output sent back ----

  @Test
  void functionCallRoundTripReachesEveryProviderAsItsOwnToolTurns() {
    List<ResponseInputItem> input = List.of(
        ResponseInputItem.ofEasyInputMessage(EasyInputMessage.builder()
            .role(EasyInputMessage.Role.USER).content("Weather in Paris?").build()),
        ResponseInputItem.ofFunctionCall(ResponseFunctionToolCall.builder()
            .callId("call_1").name("weather").arguments("{\"city\":\"Paris\"}").build()),
        ResponseInputItem.ofFunctionCallOutput(ResponseInputItem.FunctionCallOutput.builder()
            .callId("call_1").output("Sunny, 21 C").build()));
    openai.then(json(200, fixture("openai/openai-text.json")));
    claude.then(json(200, fixture("anthropic/anthropic-text.json")));

    Response fromOpenAi = client.responses().create(ResponseCreateParams.builder()
        .model("openai-m").inputOfResponse(input).addTool(weather()).build());
    Response fromClaude = client.responses().create(ResponseCreateParams.builder()
        .model("claude-m").inputOfResponse(input).addTool(weather()).build());

    assertThat(text(fromOpenAi)).isNotEmpty();
    assertThat(text(fromClaude)).isNotEmpty();
    JsonArray messages = openai.lastRequest().body().getJsonArray("messages");
    assertThat(messages).hasSize(3);
    JsonObject call = messages.getJsonObject(1).getJsonArray("tool_calls").getJsonObject(0);
    assertThat(call.getString("id")).isEqualTo("call_1");
    assertThat(call.getJsonObject("function").getString("arguments"))
        .isEqualTo("{\"city\":\"Paris\"}");
    assertThat(messages.getJsonObject(2)).isEqualTo(new JsonObject().put("role", "tool")
        .put("tool_call_id", "call_1").put("content", "Sunny, 21 C"));
    JsonArray turns = claude.lastRequest().body().getJsonArray("messages");
    JsonObject toolUse = turns.getJsonObject(1).getJsonArray("content").getJsonObject(0);
    assertThat(toolUse.getString("type")).isEqualTo("tool_use");
    assertThat(toolUse.getJsonObject("input").getString("city")).isEqualTo("Paris");
    JsonObject toolResult = turns.getJsonObject(2).getJsonArray("content").getJsonObject(0);
    assertThat(toolResult.getString("type")).isEqualTo("tool_result");
    assertThat(toolResult.getString("tool_use_id")).isEqualTo("call_1");
  }

  @Test
  void outputItemsSentBackAsInputContinueTheConversation() {
    groq.then(json(200, fixture("groq/groq-tool-call.json")));
    HttpResponse<String> first = post(request("groq-m", false).put("tools", new JsonArray()
        .add(new JsonObject().put("type", "function").put("name", "weather"))));
    JsonArray output = new JsonObject(first.body()).getJsonArray("output");
    JsonArray input = new JsonArray()
        .add(new JsonObject().put("role", "user").put("content", "hi"))
        .addAll(output)
        .add(new JsonObject().put("type", "function_call_output")
            .put("call_id", output.getJsonObject(0).getString("call_id"))
            .put("output", new JsonArray().add(new JsonObject().put("type", "input_text")
                .put("text", "Sunny"))));
    groq.then(json(200, fixture("groq/groq-text.json")));

    HttpResponse<String> second = post(new JsonObject().put("model", "groq-m")
        .put("input", input));

    assertThat(second.statusCode()).as(second.body()).isEqualTo(200);
    JsonArray sent = groq.lastRequest().body().getJsonArray("messages");
    assertThat(sent.getJsonObject(1).getJsonArray("tool_calls").getJsonObject(0)
        .getString("id")).isEqualTo("ax9fskhev");
    assertThat(sent.getJsonObject(2).getString("content")).isEqualTo("Sunny");
  }

  // ---- parameters ----

  @Test
  void textFormatAndReasoningEffortAreMappedOrDroppedByName() {
    JsonObject schema = new JsonObject().put("type", "object")
        .put("properties", new JsonObject().put("a", new JsonObject().put("type", "string")));
    JsonObject body = request("openai-m", false)
        .put("text", new JsonObject().put("format", new JsonObject().put("type", "json_schema")
            .put("name", "thing").put("schema", schema).put("strict", true)))
        .put("reasoning", new JsonObject().put("effort", "low"))
        .put("temperature", 0.5).put("tool_choice", "required")
        .put("tools", new JsonArray().add(new JsonObject().put("type", "function")
            .put("name", "weather")));
    openai.then(json(200, fixture("openai/openai-text.json")));
    claude.then(json(200, fixture("anthropic/anthropic-text.json")));

    HttpResponse<String> toOpenAi = post(body);
    HttpResponse<String> toClaude = post(body.copy().put("model", "claude-m"));

    assertThat(toOpenAi.statusCode()).isEqualTo(200);
    JsonObject sent = openai.lastRequest().body();
    assertThat(sent.getJsonObject("response_format")).isEqualTo(new JsonObject()
        .put("type", "json_schema").put("json_schema", new JsonObject().put("name", "thing")
            .put("schema", schema).put("strict", true)));
    assertThat(sent.getString("reasoning_effort")).isEqualTo("low");
    assertThat(sent.getString("tool_choice")).isEqualTo("required");
    JsonObject echoed = new JsonObject(toOpenAi.body());
    assertThat(echoed.getJsonObject("text").getJsonObject("format").getString("name"))
        .isEqualTo("thing");
    assertThat(echoed.getDouble("temperature")).isEqualTo(0.5);
    assertThat(echoed.getJsonObject("reasoning").getString("effort")).isEqualTo("low");

    assertThat(toClaude.statusCode()).isEqualTo(200);
    assertThat(claude.lastRequest().body().getJsonObject("tool_choice").getString("type"))
        .isEqualTo("any");
    assertThat(toClaude.headers().firstValue("x-flopex-warnings")).hasValueSatisfying(w ->
        assertThat(w).contains("'reasoning.effort'").contains("'text.format'")
            .doesNotContain("reasoning_effort"));
  }

  @Test
  void reasoningTextBecomesAReasoningItemStreamingAndNot() {
    JsonObject answer = new JsonObject(fixture("groq/groq-text.json"));
    answer.getJsonArray("choices").getJsonObject(0).getJsonObject("message")
        .put("reasoning_content", "The user greets me.");
    groq.then(json(200, answer.encode()));
    String thought = new JsonObject(Chunks.content("x")).put("choices", new JsonArray()
        .add(new JsonObject().put("index", 0).put("delta", new JsonObject()
            .put("reasoning_content", "The user greets me.")).putNull("finish_reason")))
        .encode();
    groq.then(sse(List.of(Chunks.role(), thought, Chunks.content("Hello!"),
        Chunks.finish("stop"), Chunks.usage(5, 7))));

    Response plain = client.responses().create(params("groq-m").build());
    Response streamed = streamed(params("groq-m").build());

    for (Response response : List.of(plain, streamed)) {
      ResponseOutputItem first = response.output().get(0);
      assertThat(first.reasoning()).isPresent();
      assertThat(first.reasoning().get().content().get().get(0).text())
          .isEqualTo("The user greets me.");
      assertThat(response.output().get(1).message()).isPresent();
    }
    assertThat(text(streamed)).isEqualTo("Hello!");
  }

  @Test
  void theOutputLimitMakesTheResponseIncomplete() {
    groq.then(sse(List.of(Chunks.role(), Chunks.content("Once upon"), Chunks.finish("length"),
        Chunks.usage(5, 2))));

    List<Event> events = ResponsesEvents.of(post(request("groq-m", true)).body());

    Event last = events.get(events.size() - 1);
    assertThat(last.name()).isEqualTo("response.incomplete");
    JsonObject response = last.data().getJsonObject("response");
    assertThat(response.getString("status")).isEqualTo("incomplete");
    assertThat(response.getJsonObject("incomplete_details").getString("reason"))
        .isEqualTo("max_output_tokens");
  }

  // ---- B03 and B06 on this dialect ----

  @Test
  void b03_streamIsTypedEventsInOrderEndingInOneCompletedResponseWithUsageAndCost() {
    for (String fixture : List.of("openai/openai-text.chunks.txt", "groq/groq-text.chunks.txt",
        "deepseek/deepseek-text.chunks.txt")) {
      groq.then(sse(fixtureEvents(fixture)));
      String requestId = UUID.randomUUID().toString();

      HttpResponse<String> response = gateway.post("/v1/responses",
          request("groq-m", true).encode(), requestId);

      assertThat(response.headers().firstValue("content-type")).hasValueSatisfying(
          t -> assertThat(t).startsWith("text/event-stream"));
      List<Event> events = ResponsesEvents.of(response.body());
      List<String> types = new ArrayList<>();
      for (int i = 0; i < events.size(); i++) {
        Event e = events.get(i);
        assertThat(e.name()).as(fixture).isEqualTo(e.data().getString("type"));
        assertThat(e.data().getInteger("sequence_number")).as(fixture).isEqualTo(i);
        if (!types.isEmpty() && types.get(types.size() - 1).equals(e.name())
            && e.name().equals("response.output_text.delta")) {
          continue;
        }
        types.add(e.name());
      }
      // The recorded DeepSeek answer stops at its output limit.
      String end = fixture.startsWith("deepseek") ? "response.incomplete" : "response.completed";
      assertThat(types).as(fixture).containsExactly("response.created",
          "response.in_progress", "response.output_item.added", "response.content_part.added",
          "response.output_text.delta", "response.output_text.done",
          "response.content_part.done", "response.output_item.done", end);
      Set<String> ids = events.stream()
          .filter(e -> e.data().getValue("response") instanceof JsonObject)
          .map(e -> e.data().getJsonObject("response").getString("id"))
          .collect(Collectors.toSet());
      assertThat(ids).as(fixture).hasSize(1);
      JsonObject completed = events.get(events.size() - 1).data().getJsonObject("response");
      assertThat(completed.getString("model")).isEqualTo("groq-m");
      assertThat(completed.getJsonArray("output").getJsonObject(0).getJsonArray("content")
          .getJsonObject(0).getString("text")).isEqualTo(chunkText(fixture));
      JsonObject usage = completed.getJsonObject("usage");
      Row row = gateway.awaitUsageRow(requestId);
      assertThat(usage.getLong("input_tokens")).as(fixture)
          .isEqualTo(row.getLong("prompt_tokens")).isPositive();
      assertThat(usage.getLong("output_tokens")).isEqualTo(row.getLong("completion_tokens"));
      assertThat(usage.getLong("cost_micros")).isEqualTo(row.getLong("cost_micros"))
          .isPositive();
      assertThat(row.getBoolean("tokens_estimated")).isFalse();
      assertThat(groq.lastRequest().body().getJsonObject("stream_options")
          .getBoolean("include_usage")).isTrue();
    }
  }

  @Test
  void b03_functionCallEventsComeInTheirOrder() {
    groq.then(sse(fixtureEvents("groq/groq-tool-call.chunks.txt")));

    List<Event> events = ResponsesEvents.of(post(request("groq-m", true).put("tools",
        new JsonArray().add(new JsonObject().put("type", "function").put("name", "weather"))))
        .body());

    assertThat(events).extracting(Event::name).containsExactly("response.created",
        "response.in_progress", "response.output_item.added",
        "response.function_call_arguments.delta", "response.function_call_arguments.done",
        "response.output_item.done", "response.completed");
    JsonObject added = events.get(2).data().getJsonObject("item");
    assertThat(added.getString("type")).isEqualTo("function_call");
    assertThat(added.getString("call_id")).isEqualTo("tk85n1k4m");
    assertThat(events.get(4).data().getString("arguments")).isEqualTo("{}");
  }

  @Test
  void b06a_failoverBeforeContentIsInvisible() {
    int openaiCalls = openai.calls();
    claude.then(anthropicSse(List.of(fixtureEvents("anthropic/anthropic-text.chunks.txt")
        .get(0), "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
        + "\"message\":\"Overloaded\"}}"), 0, true));
    openai.then(sse(List.of(Chunks.role(), Chunks.content("from openai"),
        Chunks.finish("stop"))));

    HttpResponse<String> response = post(request("claude-then-openai", true));

    assertThat(response.headers().firstValue("x-flopex-provider")).hasValue("openai");
    List<Event> events = ResponsesEvents.of(response.body());
    assertThat(events).filteredOn(e -> e.name().equals("response.created")).hasSize(1);
    assertThat(events.get(0).data().getInteger("sequence_number")).isZero();
    assertThat(response.body()).doesNotContain("response.failed").doesNotContain("Overloaded");
    assertThat(events.get(events.size() - 1).name()).isEqualTo("response.completed");
    assertThat(events.get(events.size() - 1).data().getJsonObject("response")
        .getJsonArray("output").encode()).contains("from openai");
    assertThat(openai.calls()).isEqualTo(openaiCalls + 1);
  }

  @Test
  void b06b_cutAfterContentEndsWithResponseFailedAndNoSplice() {
    int groqCalls = groq.calls();
    List<String> tokens = new ArrayList<>();
    tokens.add(Chunks.role());
    for (int i = 0; i < 40; i++) {
      tokens.add(Chunks.content("t" + i + " "));
    }
    openai.then(sse(tokens, 0, false));
    String requestId = UUID.randomUUID().toString();

    HttpResponse<String> response = gateway.post("/v1/responses",
        request("openai-then-groq", true).encode(), requestId);

    List<Event> events = ResponsesEvents.of(response.body());
    Event last = events.get(events.size() - 1);
    assertThat(last.name()).isEqualTo("response.failed");
    assertThat(last.data().getInteger("sequence_number")).isEqualTo(events.size() - 1);
    JsonObject failed = last.data().getJsonObject("response");
    assertThat(failed.getString("status")).isEqualTo("failed");
    assertThat(failed.getJsonObject("error").getString("code")).isEqualTo("server_error");
    assertThat(failed.getJsonArray("output").getJsonObject(0).getJsonArray("content")
        .getJsonObject(0).getString("text")).startsWith("t0 t1 ").endsWith("t39 ");
    assertThat(events).extracting(Event::name).doesNotContain("response.completed");
    assertThat(groq.calls()).isEqualTo(groqCalls);
    Row row = gateway.awaitUsageRow(requestId);
    assertThat(row.getString("outcome")).isEqualTo("stream_interrupted");
    assertThat(row.getBoolean("tokens_estimated")).isTrue();
    assertThat(row.getLong("completion_tokens")).isPositive();
  }

  @Test
  void b06c_anthropicErrorAfterContentEndsWithResponseFailed() {
    int openaiCalls = openai.calls();
    List<String> events = new ArrayList<>(
        fixtureEvents("anthropic/anthropic-text.chunks.txt").subList(0, 6));
    events.add("{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
        + "\"message\":\"Overloaded\"}}");
    claude.then(anthropicSse(events, 0, true));

    List<Event> received = ResponsesEvents.of(post(request("claude-then-openai", true)).body());

    assertThat(received).extracting(Event::name).contains("response.output_text.delta")
        .doesNotContain("response.completed");
    assertThat(received.get(received.size() - 1).name()).isEqualTo("response.failed");
    assertThat(openai.calls()).isEqualTo(openaiCalls);
  }

  // ---- what is refused ----

  @Test
  void requestsThatNeedStoredStateAreRefusedSayingWhatToSendInstead() {
    assertThatThrownBy(() -> client.responses().create(params("openai-m")
        .previousResponseId("resp_123").build()))
        .isInstanceOf(BadRequestException.class)
        .hasMessageContaining("previous_response_id");

    assertRefused(request("openai-m", false).put("previous_response_id", "resp_1"),
        "previous_response_id", "input");
    assertRefused(request("openai-m", false).put("conversation", "conv_1"), "conversation",
        "input");
    assertRefused(request("openai-m", false).put("background", true), "background",
        "stream");
    assertRefused(new JsonObject().put("model", "openai-m").put("input", new JsonArray()
        .add(new JsonObject().put("type", "item_reference").put("id", "msg_1"))),
        "input[0]", "stores none");
  }

  @Test
  void toolsOtherThanFunctionsAreRefusedNamingTheField() {
    assertRefused(request("openai-m", false).put("tools", new JsonArray()
        .add(new JsonObject().put("type", "function").put("name", "weather"))
        .add(new JsonObject().put("type", "web_search"))), "tools[1].type", "web_search");
    assertRefused(request("openai-m", false).put("tool_choice",
        new JsonObject().put("type", "file_search")), "tool_choice", "function");
  }

  @Test
  void malformedInputIsRefusedNamingTheField() {
    assertRefused(new JsonObject().put("model", "openai-m"), "input", "required");
    assertRefused(new JsonObject().put("model", "openai-m").put("input", 42), "input",
        "string");
    assertRefused(new JsonObject().put("model", "openai-m").put("input", new JsonArray()
        .add(new JsonObject().put("role", "user").put("content", 42))), "input[0].content",
        "content");
    assertRefused(new JsonObject().put("model", "openai-m").put("input", new JsonArray()
        .add(new JsonObject().put("type", "function_call").put("name", "f")
            .put("arguments", "{}"))), "input[0].call_id", "string");
    assertRefused(new JsonObject().put("model", "openai-m").put("input", new JsonArray()
        .add(new JsonObject().put("type", "computer_call"))), "input[0].type", "computer_call");
    assertRefused(new JsonObject().put("input", "hi"), "model", "model");
    assertRefused(request("openai-m", false).put("temperature", 3), "temperature", "0");
    assertRefused(request("openai-m", false).put("text", new JsonObject().put("format",
        new JsonObject().put("type", "json_schema").put("name", "x"))), "text.format.schema",
        "schema");
    HttpResponse<String> notJson = gateway.post("/v1/responses", "{", "bad-json-1");
    assertThat(notJson.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(notJson.body()).getJsonObject("error").getString("type"))
        .isEqualTo("invalid_request_error");
  }

  private static void assertRefused(JsonObject body, String param, String mentions) {
    int calls = openai.calls();
    HttpResponse<String> response = post(body);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
    JsonObject error = new JsonObject(response.body()).getJsonObject("error");
    assertThat(error.getString("type")).isEqualTo("invalid_request_error");
    assertThat(error.getString("param")).isEqualTo(param);
    assertThat(error.getString("code")).isEqualTo("invalid_request");
    assertThat(error.getString("message")).contains(mentions);
    assertThat(openai.calls()).isEqualTo(calls);
  }

  @Test
  void storedResponsesCannotBeRetrieved() {
    HttpResponse<String> response = gateway.send(java.net.http.HttpRequest.newBuilder(
            java.net.URI.create(gateway.url("/v1/responses/resp_123")))
        .header("authorization", "Bearer " + gateway.key()).GET().build());

    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(new JsonObject(response.body()).getJsonObject("error").getString("message"))
        .contains("stores no responses");
  }

  // ---- metering ----

  @Test
  void aResponsesRequestLeavesOneMeteredRowWithItsCost() {
    groq.then(json(200, fixture("groq/groq-tool-call.json")));
    String requestId = UUID.randomUUID().toString();

    HttpResponse<String> response = gateway.post("/v1/responses",
        request("groq-m", false).encode(), requestId);

    assertThat(response.statusCode()).isEqualTo(200);
    Row row = gateway.awaitUsageRow(requestId);
    assertThat(row.getString("outcome")).isEqualTo("success");
    assertThat(row.getString("provider")).isEqualTo("groq");
    assertThat(row.getString("model")).isEqualTo("groq-m");
    assertThat(row.getLong("prompt_tokens")).isEqualTo(218);
    assertThat(row.getLong("completion_tokens")).isEqualTo(15);
    // 218 * 1.5 + 15 * 2.0 USD per million tokens = 357 micro-USD
    assertThat(row.getLong("cost_micros")).isEqualTo(357);
    JsonObject usage = new JsonObject(response.body()).getJsonObject("usage");
    assertThat(usage.getLong("cost_micros")).isEqualTo(357);
    assertThat(response.body()).contains("\"cost\":0.000357,");
  }
}
