package io.flopex.e2e;

import static io.flopex.testing.FakeUpstream.anthropicSse;
import static io.flopex.testing.FakeUpstream.fixture;
import static io.flopex.testing.FakeUpstream.json;
import static io.flopex.testing.FakeUpstream.sse;
import static org.assertj.core.api.Assertions.assertThat;

import io.flopex.testing.Chunks;
import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.SseClient;
import io.flopex.testing.Sync;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Translation cases between client dialects and provider formats, by case id. */
class TranslationCasesTest {

  private static Vertx vertx;
  private static FakeUpstream openai;
  private static FakeUpstream compat;
  private static FakeUpstream claude;
  private static FakeUpstream gemini;
  private static Gateway gateway;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    openai = FakeUpstream.start(vertx);
    compat = FakeUpstream.start(vertx);
    claude = FakeUpstream.start(vertx);
    gemini = FakeUpstream.start(vertx);
    JsonObject timeouts = new JsonObject().put("connectMs", 1000).put("firstByteMs", 5000)
        .put("idleMs", 5000).put("responseMs", 10000);
    JsonObject pricing = new JsonObject().put("prompt", 2).put("completion", 8)
        .put("cacheRead", 0.5).put("cacheWrite", 2.5).put("reasoning", 4);
    gateway = Gateway.builder(vertx)
        .provider("openai", "openai", openai.baseUrl(), "sk-o", timeouts)
        .provider("compat", "openai-compatible", compat.baseUrl(), "sk-c", timeouts)
        .provider("claude", "anthropic", claude.rootUrl(), "sk-a", timeouts)
        .provider("gemini", "gemini", gemini.rootUrl(), "sk-g", timeouts)
        .model("openai-m", pricing, "openai")
        .model("compat-m", pricing, "compat")
        .model("claude-m", pricing, "claude")
        .model("gemini-m", pricing, "gemini")
        .start();
  }

  @AfterAll
  static void stop() {
    gateway.close();
    for (FakeUpstream f : List.of(openai, compat, claude, gemini)) {
      f.close();
    }
    Sync.await(vertx.close());
  }

  private static String chat(String model, boolean stream, String extra) {
    return Chunks.request(stream, extra).replace("\"m\"", "\"" + model + "\"");
  }

  private static List<JsonObject> chunks(List<String> events) {
    List<JsonObject> out = new ArrayList<>();
    for (String e : events) {
      if (!e.equals("[DONE]")) {
        out.add(new JsonObject(e));
      }
    }
    return out;
  }

  private static String anthropicEvent(JsonObject data) {
    return data.encode();
  }

  @Test
  void b09a_twoStreamedToolUseBlocksBecomeContiguousToolCalls() {
    List<String> events = List.of(
        "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\","
            + "\"role\":\"assistant\",\"content\":[],\"usage\":{\"input_tokens\":10,"
            + "\"output_tokens\":1}}}",
        "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\","
            + "\"id\":\"toolu_a\",\"name\":\"alpha\",\"input\":{}}}",
        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\","
            + "\"partial_json\":\"{\\\"x\\\":\"}}",
        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\","
            + "\"partial_json\":\"1}\"}}",
        "{\"type\":\"content_block_stop\",\"index\":0}",
        "{\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\","
            + "\"id\":\"toolu_b\",\"name\":\"beta\",\"input\":{}}}",
        "{\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\","
            + "\"partial_json\":\"{\\\"y\\\":\"}}",
        "{\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\","
            + "\"partial_json\":\"2}\"}}",
        "{\"type\":\"content_block_stop\",\"index\":1}",
        "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},"
            + "\"usage\":{\"output_tokens\":20}}",
        "{\"type\":\"message_stop\"}");
    claude.then(anthropicSse(events, 0, true));

    List<JsonObject> chunks;
    try (SseClient sse = SseClient.open(gateway, chat("claude-m", true, ""))) {
      chunks = chunks(sse.rest());
    }

    Map<Integer, StringBuilder> arguments = new java.util.TreeMap<>();
    Map<Integer, Integer> firstDeltas = new java.util.HashMap<>();
    String finish = null;
    for (JsonObject chunk : chunks) {
      for (Object c : chunk.getJsonArray("choices")) {
        JsonObject choice = (JsonObject) c;
        if (choice.getValue("finish_reason") != null) {
          finish = choice.getString("finish_reason");
        }
        JsonArray calls = choice.getJsonObject("delta").getJsonArray("tool_calls");
        if (calls == null) {
          continue;
        }
        for (Object o : calls) {
          JsonObject call = (JsonObject) o;
          int index = call.getInteger("index");
          boolean first = !arguments.containsKey(index);
          assertThat(call.containsKey("id")).isEqualTo(first);
          assertThat(call.getJsonObject("function").containsKey("name")).isEqualTo(first);
          firstDeltas.merge(index, first ? 1 : 0, Integer::sum);
          arguments.computeIfAbsent(index, i -> new StringBuilder())
              .append(call.getJsonObject("function").getString("arguments"));
        }
      }
    }
    assertThat(arguments.keySet()).containsExactly(0, 1);
    assertThat(new JsonObject(arguments.get(0).toString())).isEqualTo(new JsonObject().put("x", 1));
    assertThat(new JsonObject(arguments.get(1).toString())).isEqualTo(new JsonObject().put("y", 2));
    assertThat(firstDeltas).containsEntry(0, 1).containsEntry(1, 1);
    assertThat(finish).isEqualTo("tool_calls");
  }

  private static String toolDelta(int index, String id, String name, String args) {
    JsonObject function = new JsonObject().put("arguments", args);
    JsonObject call = new JsonObject().put("index", index).put("function", function);
    if (id != null) {
      call.put("id", id).put("type", "function");
      function.put("name", name);
    }
    return new JsonObject().put("id", "c").put("object", "chat.completion.chunk")
        .put("created", 1).put("model", "x").put("choices", new JsonArray().add(new JsonObject()
            .put("index", 0).put("delta", new JsonObject()
                .put("tool_calls", new JsonArray().add(call))).putNull("finish_reason")))
        .encode();
  }

  private static List<JsonObject> messagesStream(String body) {
    HttpResponse<String> response = gateway.send(HttpRequest.newBuilder(
            URI.create(gateway.url("/v1/messages")))
        .header("x-api-key", gateway.key())
        .POST(HttpRequest.BodyPublishers.ofString(body)).build());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    List<JsonObject> events = new ArrayList<>();
    String name = null;
    for (String line : response.body().split("\n")) {
      if (line.startsWith("event: ")) {
        name = line.substring(7);
      } else if (line.startsWith("data: ")) {
        JsonObject data = new JsonObject(line.substring(6));
        assertThat(data.getString("type")).isEqualTo(name);
        events.add(data);
      }
    }
    return events;
  }

  private static String messages(String model, boolean stream) {
    return "{\"model\":\"" + model + "\",\"max_tokens\":100,\"stream\":" + stream
        + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  }

  @Test
  void b09c_interleavedToolCallsBecomeSeparateAnthropicBlocks() {
    openai.then(sse(List.of(
        toolDelta(0, "call_a", "alpha", ""),
        toolDelta(1, "call_b", "beta", ""),
        toolDelta(0, null, null, "{\"x\":"),
        toolDelta(1, null, null, "{\"y\":"),
        toolDelta(0, null, null, "1}"),
        toolDelta(1, null, null, "2}"),
        Chunks.finish("tool_calls"),
        Chunks.usage(10, 20))));

    List<JsonObject> events = messagesStream(messages("openai-m", true));

    List<String> types = events.stream().map(e -> e.getString("type")).toList();
    assertThat(types.get(0)).isEqualTo("message_start");
    assertThat(types).endsWith("message_delta", "message_stop");
    Map<Integer, String> names = new java.util.HashMap<>();
    Map<Integer, StringBuilder> inputs = new java.util.HashMap<>();
    Integer open = null;
    for (JsonObject e : events) {
      switch (e.getString("type")) {
        case "content_block_start" -> {
          assertThat(open).isNull();
          open = e.getInteger("index");
          names.put(open, e.getJsonObject("content_block").getString("name"));
          inputs.put(open, new StringBuilder());
        }
        case "content_block_delta" -> {
          assertThat(e.getInteger("index")).isEqualTo(open);
          inputs.get(open).append(e.getJsonObject("delta").getString("partial_json"));
        }
        case "content_block_stop" -> {
          assertThat(e.getInteger("index")).isEqualTo(open);
          open = null;
        }
        default -> { }
      }
    }
    assertThat(open).isNull();
    assertThat(names).containsEntry(0, "alpha").containsEntry(1, "beta");
    assertThat(new JsonObject(inputs.get(0).toString())).isEqualTo(new JsonObject().put("x", 1));
    assertThat(new JsonObject(inputs.get(1).toString())).isEqualTo(new JsonObject().put("y", 2));
    JsonObject delta = events.get(events.size() - 2);
    assertThat(delta.getJsonObject("delta").getString("stop_reason")).isEqualTo("tool_use");
    assertThat(delta.getJsonObject("usage").getLong("output_tokens")).isEqualTo(20);
  }

  @ParameterizedTest
  @CsvSource({"end_turn, stop", "stop_sequence, stop", "max_tokens, length",
      "tool_use, tool_calls", "refusal, content_filter", "pause_turn, stop"})
  void b10_anthropicStopReasonsMapTheSameStreamingAndNot(String anthropic, String openAi) {
    JsonObject answer = new JsonObject(fixture("anthropic/anthropic-text.json"))
        .put("stop_reason", anthropic);
    claude.then(json(200, answer.encode()));
    HttpResponse<String> plain = gateway.post("/v1/chat/completions", chat("claude-m", false, ""));
    assertThat(new JsonObject(plain.body()).getJsonArray("choices").getJsonObject(0)
        .getString("finish_reason")).isEqualTo(openAi);

    List<String> events = new ArrayList<>(FakeUpstream.fixtureEvents(
        "anthropic/anthropic-text.chunks.txt"));
    events.set(events.size() - 2, "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\""
        + anthropic + "\"},\"usage\":{\"output_tokens\":30}}");
    claude.then(anthropicSse(events, 0, true));
    List<String> finishes = new ArrayList<>();
    try (SseClient sse = SseClient.open(gateway, chat("claude-m", true, ""))) {
      for (JsonObject chunk : chunks(sse.rest())) {
        for (Object c : chunk.getJsonArray("choices")) {
          if (((JsonObject) c).getValue("finish_reason") != null) {
            finishes.add(((JsonObject) c).getString("finish_reason"));
          }
        }
      }
    }
    assertThat(finishes).containsExactly(openAi);
  }

  @ParameterizedTest
  @CsvSource({"stop, end_turn", "length, max_tokens", "tool_calls, tool_use",
      "content_filter, refusal", "something_new, end_turn"})
  void b10_openAiFinishReasonsMapBackForMessagesClients(String openAi, String anthropic) {
    JsonObject answer = new JsonObject(fixture("openai/openai-text.json"));
    answer.getJsonArray("choices").getJsonObject(0).put("finish_reason", openAi);
    openai.then(json(200, answer.encode()));
    HttpResponse<String> plain = gateway.send(HttpRequest.newBuilder(
            URI.create(gateway.url("/v1/messages")))
        .header("x-api-key", gateway.key())
        .POST(HttpRequest.BodyPublishers.ofString(messages("openai-m", false))).build());
    assertThat(new JsonObject(plain.body()).getString("stop_reason")).isEqualTo(anthropic);

    openai.then(sse(List.of(Chunks.content("hi"), Chunks.finish(openAi))));
    List<JsonObject> events = messagesStream(messages("openai-m", true));
    assertThat(events.get(events.size() - 2).getJsonObject("delta").getString("stop_reason"))
        .isEqualTo(anthropic);
  }

  @Test
  void b12_oneOutputLimitReachesEveryProviderUnderItsOwnName() {
    openai.then(json(200, fixture("openai/openai-text.json")));
    gateway.post("/v1/chat/completions", chat("openai-m", false, "\"max_tokens\":256"));
    JsonObject toOpenAi = openai.lastRequest().body();
    assertThat(toOpenAi.getInteger("max_completion_tokens")).isEqualTo(256);
    assertThat(toOpenAi.containsKey("max_tokens")).isFalse();

    claude.then(json(200, fixture("anthropic/anthropic-text.json")));
    gateway.post("/v1/chat/completions", chat("claude-m", false, "\"max_completion_tokens\":300"));
    assertThat(claude.lastRequest().body().getInteger("max_tokens")).isEqualTo(300);

    String both = "\"max_tokens\":100,\"max_completion_tokens\":200";
    openai.then(json(200, fixture("openai/openai-text.json")));
    gateway.post("/v1/chat/completions", chat("openai-m", false, both));
    assertThat(openai.lastRequest().body().getInteger("max_completion_tokens")).isEqualTo(200);
    compat.then(json(200, fixture("groq/groq-text.json")));
    gateway.post("/v1/chat/completions", chat("compat-m", false, both));
    assertThat(compat.lastRequest().body().getInteger("max_tokens")).isEqualTo(200);
    assertThat(compat.lastRequest().body().containsKey("max_completion_tokens")).isFalse();
    claude.then(json(200, fixture("anthropic/anthropic-text.json")));
    gateway.post("/v1/chat/completions", chat("claude-m", false, both));
    assertThat(claude.lastRequest().body().getInteger("max_tokens")).isEqualTo(200);
    gemini.then(json(200, fixture("google/google-text.json")));
    gateway.post("/v1/chat/completions", chat("gemini-m", false, both));
    assertThat(gemini.lastRequest().body().getJsonObject("generationConfig")
        .getInteger("maxOutputTokens")).isEqualTo(200);
  }

  @Test
  void b15_nAboveOneIsRefusedNamingNWhereTheProviderCannotDoIt() {
    int calls = claude.calls();
    HttpResponse<String> response = gateway.post("/v1/chat/completions",
        chat("claude-m", false, "\"n\":2"));

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(response.body()).getJsonObject("error").getString("param"))
        .isEqualTo("n");
    assertThat(claude.calls()).isEqualTo(calls);
  }

  @Test
  void b15_streamedChoicesKeepTheirIndex() {
    compat.then(sse(List.of(
        choiceChunk(0, "zero", null), choiceChunk(1, "one", null),
        choiceChunk(0, null, "stop"), choiceChunk(1, null, "length"))));

    List<JsonObject> chunks;
    try (SseClient sse = SseClient.open(gateway, chat("compat-m", true, "\"n\":2"))) {
      chunks = chunks(sse.rest());
    }

    Map<Integer, String> texts = new java.util.HashMap<>();
    Map<Integer, String> finishes = new java.util.HashMap<>();
    for (JsonObject chunk : chunks) {
      for (Object c : chunk.getJsonArray("choices")) {
        JsonObject choice = (JsonObject) c;
        int index = choice.getInteger("index");
        String content = choice.getJsonObject("delta").getString("content");
        if (content != null) {
          texts.merge(index, content, String::concat);
        }
        if (choice.getValue("finish_reason") != null) {
          assertThat(finishes.put(index, choice.getString("finish_reason"))).isNull();
        }
      }
    }
    assertThat(texts).containsEntry(0, "zero").containsEntry(1, "one");
    assertThat(finishes).containsEntry(0, "stop").containsEntry(1, "length");
  }

  private static String choiceChunk(int index, String content, String finish) {
    JsonObject delta = new JsonObject();
    if (content != null) {
      delta.put("content", content);
    }
    return new JsonObject().put("id", "c").put("object", "chat.completion.chunk")
        .put("created", 1).put("model", "x").put("choices", new JsonArray().add(new JsonObject()
            .put("index", index).put("delta", delta).put("finish_reason", finish))).encode();
  }

  private static Row meteredRow(String model, boolean stream, String upstreamAnswer,
      FakeUpstream fake, boolean anthropicFraming) {
    if (stream) {
      fake.then(anthropicFraming ? anthropicSse(List.of(upstreamAnswer.split("\n")), 0, true)
          : sse(List.of(upstreamAnswer.split("\n")), 0, !fake.equals(gemini)));
    } else {
      fake.then(json(200, upstreamAnswer));
    }
    String requestId = UUID.randomUUID().toString();
    if (stream) {
      try (SseClient sse = SseClient.open(gateway, chat(model, true, ""), requestId)) {
        sse.rest();
      }
    } else {
      assertThat(gateway.post("/v1/chat/completions", chat(model, false, ""), requestId)
          .statusCode()).isEqualTo(200);
    }
    return gateway.awaitUsageRow(requestId);
  }

  private static void assertSameMetering(Row plain, Row streamed, long prompt, long completion,
      long cost) {
    for (Row row : List.of(plain, streamed)) {
      assertThat(row.getLong("prompt_tokens")).isEqualTo(prompt);
      assertThat(row.getLong("completion_tokens")).isEqualTo(completion);
      assertThat(row.getLong("cost_micros")).isEqualTo(cost);
      assertThat(row.getBoolean("tokens_estimated")).isFalse();
    }
  }

  @Test
  void b26_b27_b28_eachTokenIsPricedOnceAtItsRateStreamingOrNot() {
    // OpenAI: 2000 prompt of which 1500 cached, 100 completion of which none reasoning.
    JsonObject openAiUsage = new JsonObject().put("prompt_tokens", 2000)
        .put("completion_tokens", 100).put("total_tokens", 2100)
        .put("prompt_tokens_details", new JsonObject().put("cached_tokens", 1500));
    JsonObject answer = new JsonObject(fixture("openai/openai-text.json"))
        .put("usage", openAiUsage);
    String stream = Chunks.content("x") + "\n" + Chunks.finish("stop") + "\n"
        + new JsonObject(Chunks.usage(0, 0)).put("usage", openAiUsage).encode();
    // 500 x 2 + 1500 x 0.5 + 100 x 8 = 2550 micro-USD
    assertSameMetering(meteredRow("openai-m", false, answer.encode(), openai, false),
        meteredRow("openai-m", true, stream, openai, false), 2000, 100, 2550);

    // OpenAI reasoning: 20 prompt, 533 completion of which 382 reasoning.
    JsonObject reasoning = new JsonObject().put("prompt_tokens", 20)
        .put("completion_tokens", 533).put("total_tokens", 553)
        .put("completion_tokens_details", new JsonObject().put("reasoning_tokens", 382));
    answer.put("usage", reasoning);
    stream = Chunks.content("x") + "\n" + Chunks.finish("stop") + "\n"
        + new JsonObject(Chunks.usage(0, 0)).put("usage", reasoning).encode();
    // 20 x 2 + 151 x 8 + 382 x 4 = 2776 micro-USD
    assertSameMetering(meteredRow("openai-m", false, answer.encode(), openai, false),
        meteredRow("openai-m", true, stream, openai, false), 20, 533, 2776);

    // Anthropic: 100 input, 5000 read from cache, 10 output.
    JsonObject claudeAnswer = new JsonObject(fixture("anthropic/anthropic-text.json"))
        .put("usage", new JsonObject().put("input_tokens", 100).put("cache_read_input_tokens",
            5000).put("cache_creation_input_tokens", 0).put("output_tokens", 10));
    String claudeStream = String.join("\n",
        "{\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\",\"role\":"
            + "\"assistant\",\"content\":[],\"usage\":{\"input_tokens\":100,"
            + "\"cache_read_input_tokens\":5000,\"cache_creation_input_tokens\":0,"
            + "\"output_tokens\":1}}}",
        "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\","
            + "\"text\":\"\"}}",
        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
            + "\"text\":\"hi\"}}",
        "{\"type\":\"content_block_stop\",\"index\":0}",
        "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},"
            + "\"usage\":{\"output_tokens\":10}}",
        "{\"type\":\"message_stop\"}");
    // 100 x 2 + 5000 x 0.5 + 10 x 8 = 2780 micro-USD
    assertSameMetering(meteredRow("claude-m", false, claudeAnswer.encode(), claude, false),
        meteredRow("claude-m", true, claudeStream, claude, true), 5100, 10, 2780);

    // Gemini: 1000 prompt of which 800 cached, 50 answer and 30 thinking.
    JsonObject geminiAnswer = new JsonObject(fixture("google/google-text.json"))
        .put("usageMetadata", new JsonObject().put("promptTokenCount", 1000)
            .put("cachedContentTokenCount", 800).put("candidatesTokenCount", 50)
            .put("thoughtsTokenCount", 30).put("totalTokenCount", 1080));
    // 200 x 2 + 800 x 0.5 + 50 x 8 + 30 x 4 = 1320 micro-USD
    assertSameMetering(meteredRow("gemini-m", false, geminiAnswer.encode(), gemini, false),
        meteredRow("gemini-m", true, geminiAnswer.encode(), gemini, false), 1000, 80, 1320);
  }

  @Test
  void b38_fieldsOutsideTheApiAreDroppedTheSameWayForEveryProvider() {
    String extra = "\"system_prompt\":\"x\",\"top_k\":5,\"foo\":{\"bar\":1},"
        + "\"provider\":{\"order\":[\"a\"]},\"metadata\":{\"k\":\"v\"}";
    openai.then(json(200, fixture("openai/openai-text.json")));
    claude.then(json(200, fixture("anthropic/anthropic-text.json")));
    gemini.then(json(200, fixture("google/google-text.json")));
    for (Map.Entry<String, FakeUpstream> target : Map.of("openai-m", openai, "claude-m", claude,
        "gemini-m", gemini).entrySet()) {
      HttpResponse<String> response = gateway.post("/v1/chat/completions",
          chat(target.getKey(), false, extra));

      assertThat(response.statusCode()).as(target.getKey()).isEqualTo(200);
      String warnings = response.headers().firstValue("x-flopex-warnings").orElse("");
      assertThat(warnings).contains("'system_prompt'").contains("'top_k'").contains("'foo'");
      String sent = target.getValue().lastRequest().body().encode();
      assertThat(sent).doesNotContain("system_prompt").doesNotContain("\"foo\"")
          .doesNotContain("top_k").doesNotContain("\"order\"");
    }
  }
}
