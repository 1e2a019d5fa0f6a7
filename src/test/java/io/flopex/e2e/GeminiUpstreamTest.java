package io.flopex.e2e;

import static io.flopex.testing.FakeUpstream.fixture;
import static io.flopex.testing.FakeUpstream.fixtureEvents;
import static io.flopex.testing.FakeUpstream.json;
import static io.flopex.testing.FakeUpstream.sse;
import static org.assertj.core.api.Assertions.assertThat;

import com.openai.client.OpenAIClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import io.flopex.testing.Chunks;
import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.SseClient;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** OpenAI-format clients served by Google's Gemini API, translated both ways. */
class GeminiUpstreamTest {

  private static final String KEY = "AIza-canary-5e1f0c9a7b3d2e4f6a8b";

  private static Vertx vertx;
  private static FakeUpstream gemini;
  private static Gateway gateway;
  private static OpenAIClient client;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    gemini = FakeUpstream.start(vertx);
    JsonObject timeouts = new JsonObject().put("connectMs", 1000).put("firstByteMs", 5000)
        .put("idleMs", 5000).put("responseMs", 10000);
    gateway = Gateway.builder(vertx)
        .provider("gem", "gemini", gemini.rootUrl(), KEY, timeouts)
        .provider("gem-limited", "gemini", gemini.rootUrl(), KEY, timeouts)
        .model("limited", "gem-limited")
        .model("m", new JsonObject().put("prompt", 1.25).put("completion", 10)
            .put("reasoning", 5), "gem")
        .start();
    client = gateway.openAi();
  }

  @AfterAll
  static void stop() {
    gateway.close();
    gemini.close();
    Sync.await(vertx.close());
  }

  private static ChatCompletionCreateParams.Builder params() {
    return ChatCompletionCreateParams.builder()
        .model("m")
        .addSystemMessage("Count carefully.")
        .addUserMessage("How many r's are in strawberry?");
  }

  @Test
  void nonStreamingTextIsTranslatedWithThinkingCountedAsReasoning() {
    gemini.then(json(200, fixture("google/google-text.json")));

    ChatCompletion completion = client.chat().completions().create(params().build());

    assertThat(completion.choices().get(0).message().content()).hasValue(
        "There are **3** r's in strawberry.\n\nHere is the breakdown: st**r**awbe**rr**y.");
    assertThat(completion.choices().get(0).finishReason().asString()).isEqualTo("stop");
    var usage = completion.usage().get();
    assertThat(usage.promptTokens()).isEqualTo(9);
    assertThat(usage.completionTokens()).isEqualTo(28 + 244);
    assertThat(usage.completionTokensDetails().get().reasoningTokens()).hasValue(244L);

    FakeUpstream.Received sent = gemini.lastRequest();
    assertThat(sent.path()).isEqualTo("/v1beta/models/up-gem:generateContent");
    assertThat(sent.uri()).doesNotContain(KEY);
    assertThat(sent.headers().get("x-goog-api-key")).isEqualTo(KEY);
    assertThat(sent.body().getJsonObject("systemInstruction").getJsonArray("parts")
        .getJsonObject(0).getString("text")).isEqualTo("Count carefully.");
    assertThat(sent.body().getJsonArray("contents").getJsonObject(0).getString("role"))
        .isEqualTo("user");
  }

  @Test
  void nonStreamingFunctionCallBecomesAToolCall() {
    gemini.then(json(200, fixture("google/google-tool-call.json")));

    ChatCompletion completion = client.chat().completions().create(params().build());

    var call = completion.choices().get(0).message().toolCalls().get().get(0).asFunction();
    assertThat(call.function().name()).isEqualTo("weather");
    assertThat(new JsonObject(call.function().arguments()))
        .isEqualTo(new JsonObject().put("location", "San Francisco"));
    assertThat(completion.choices().get(0).finishReason().asString()).isEqualTo("tool_calls");
  }

  @Test
  void streamedTextUsesTheSseEndpointAndReportsUsageOnce() {
    gemini.then(sse(fixtureEvents("google/google-text.chunks.txt"), 0, false));
    StringBuilder text = new StringBuilder();
    List<String> finishes = new ArrayList<>();
    List<Long> completionTokens = new ArrayList<>();
    ChatCompletionCreateParams request = params()
        .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();

    try (StreamResponse<ChatCompletionChunk> stream =
        client.chat().completions().createStreaming(request)) {
      stream.stream().forEach(chunk -> {
        chunk.usage().ifPresent(u -> completionTokens.add(u.completionTokens()));
        chunk.choices().forEach(choice -> {
          choice.delta().content().ifPresent(text::append);
          choice.finishReason().ifPresent(f -> finishes.add(f.asString()));
        });
      });
    }

    assertThat(text.toString()).isEqualTo("There are **3** \"r\"s in strawberry.\n\nst**r**awbe"
        + "**rr**y");
    assertThat(finishes).containsExactly("stop");
    assertThat(completionTokens).containsExactly(23L + 185);
    FakeUpstream.Received sent = gemini.lastRequest();
    assertThat(sent.path()).isEqualTo("/v1beta/models/up-gem:streamGenerateContent");
    assertThat(sent.uri()).isEqualTo(sent.path() + "?alt=sse").doesNotContain(KEY);
    assertThat(sent.headers().get("x-goog-api-key")).isEqualTo(KEY);
  }

  private static String functionCallChunk(String name, String argument, String finish) {
    JsonObject candidate = new JsonObject().put("index", 0).put("content", new JsonObject()
        .put("role", "model").put("parts", new JsonArray().add(new JsonObject()
            .put("functionCall", new JsonObject().put("name", name)
                .put("args", new JsonObject().put("q", argument))))));
    if (finish != null) {
      candidate.put("finishReason", finish);
    }
    return new JsonObject().put("candidates", new JsonArray().add(candidate)).encode();
  }

  @Test
  void b09b_threeStreamedFunctionCallsGetContiguousIndices() {
    gemini.then(sse(List.of(functionCallChunk("a", "1", null), functionCallChunk("b", "2", null),
        functionCallChunk("c", "3", "STOP")), 0, false));

    List<String> events;
    try (SseClient sse = SseClient.open(gateway, Chunks.request(true, ""))) {
      events = sse.rest();
    }

    List<Integer> indices = new ArrayList<>();
    List<String> names = new ArrayList<>();
    List<String> finishes = new ArrayList<>();
    for (String e : events.subList(0, events.size() - 1)) {
      for (Object c : new JsonObject(e).getJsonArray("choices")) {
        JsonObject choice = (JsonObject) c;
        if (choice.getValue("finish_reason") != null) {
          finishes.add(choice.getString("finish_reason"));
        }
        JsonArray calls = choice.getJsonObject("delta").getJsonArray("tool_calls");
        if (calls != null) {
          JsonObject call = calls.getJsonObject(0);
          indices.add(call.getInteger("index"));
          names.add(call.getJsonObject("function").getString("name"));
          assertThat(call.getString("id")).isNotBlank();
          assertThat(new JsonObject(call.getJsonObject("function").getString("arguments"))
              .getString("q")).isNotBlank();
        }
      }
    }
    assertThat(indices).containsExactly(0, 1, 2);
    assertThat(names).containsExactly("a", "b", "c");
    assertThat(finishes).containsExactly("tool_calls");
  }

  @Test
  void b27_thinkingTokensAreBilledOnceAsReasoning() {
    JsonObject answer = new JsonObject(fixture("google/google-text.json"));
    answer.put("usageMetadata", new JsonObject().put("promptTokenCount", 20)
        .put("candidatesTokenCount", 151).put("thoughtsTokenCount", 382)
        .put("totalTokenCount", 553));
    gemini.then(json(200, answer.encode()));
    String requestId = UUID.randomUUID().toString();

    HttpResponse<String> response = gateway.post("/v1/chat/completions",
        Chunks.request(false, ""), requestId);

    JsonObject usage = new JsonObject(response.body()).getJsonObject("usage");
    assertThat(usage.getLong("completion_tokens")).isEqualTo(533);
    assertThat(usage.getLong("total_tokens")).isEqualTo(553);
    assertThat(usage.getJsonObject("completion_tokens_details").getLong("reasoning_tokens"))
        .isEqualTo(382);
    Row row = gateway.awaitUsageRow(requestId);
    assertThat(row.getLong("completion_tokens")).isEqualTo(533);
    assertThat(row.getLong("reasoning_tokens")).isEqualTo(382);
    // 20 x 1.25 + 151 x 10 + 382 x 5 USD per million = 3445 micro-USD
    assertThat(row.getLong("cost_micros")).isEqualTo(3445);
  }

  @ParameterizedTest
  @CsvSource({"STOP, stop", "MAX_TOKENS, length", "SAFETY, content_filter",
      "RECITATION, content_filter", "BLOCKLIST, content_filter",
      "PROHIBITED_CONTENT, content_filter", "SPII, content_filter", "OTHER, stop",
      "SOMETHING_NEW, stop"})
  void b10_finishReasonsMapTheSameStreamingAndNot(String gemini, String openAi) {
    JsonObject answer = new JsonObject(fixture("google/google-text.json"));
    answer.getJsonArray("candidates").getJsonObject(0).put("finishReason", gemini);
    GeminiUpstreamTest.gemini.then(json(200, answer.encode()));
    HttpResponse<String> plain = gateway.post("/v1/chat/completions", Chunks.request(false, ""));
    assertThat(new JsonObject(plain.body()).getJsonArray("choices").getJsonObject(0)
        .getString("finish_reason")).isEqualTo(openAi);

    GeminiUpstreamTest.gemini.then(sse(List.of(answer.encode()), 0, false));
    List<String> finishes = new ArrayList<>();
    try (SseClient sse = SseClient.open(gateway, Chunks.request(true, ""))) {
      for (String e : sse.rest()) {
        if (!e.equals("[DONE]")) {
          for (Object c : new JsonObject(e).getJsonArray("choices")) {
            if (((JsonObject) c).getValue("finish_reason") != null) {
              finishes.add(((JsonObject) c).getString("finish_reason"));
            }
          }
        }
      }
    }
    assertThat(finishes).containsExactly(openAi);
  }

  @Test
  void b15_nBecomesCandidateCountAndEachCandidateItsOwnChoice() {
    JsonObject answer = new JsonObject(fixture("google/google-text.json"));
    JsonObject second = answer.getJsonArray("candidates").getJsonObject(0).copy().put("index", 1);
    second.getJsonObject("content").getJsonArray("parts").getJsonObject(0).put("text", "Three.");
    answer.getJsonArray("candidates").add(second);
    gemini.then(json(200, answer.encode()));

    HttpResponse<String> response = gateway.post("/v1/chat/completions",
        Chunks.request(false, "\"n\":2"));

    JsonArray choices = new JsonObject(response.body()).getJsonArray("choices");
    assertThat(choices).hasSize(2);
    assertThat(choices.getJsonObject(1).getJsonObject("message").getString("content"))
        .isEqualTo("Three.");
    assertThat(gemini.lastRequest().body().getJsonObject("generationConfig")
        .getInteger("candidateCount")).isEqualTo(2);
  }

  @Test
  void rateLimitRetryInfoInTheBodyBecomesRetryAfter() {
    gemini.then(json(429, fixture("google/google-429-retry-info.json")));

    HttpResponse<String> response = gateway.post("/v1/chat/completions",
        Chunks.request(false, "").replace("\"m\"", "\"limited\""));

    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(response.headers().firstValue("retry-after")).hasValue("35");
    assertThat(response.body()).doesNotContain("quota");
  }

  @Test
  void b30_unknownModelAtGeminiLeaksNoKey() {
    gemini.then(json(404, new JsonObject().put("error", new JsonObject().put("code", 404)
        .put("message", "models/up-gem is not found for API version v1beta, key " + KEY)
        .put("status", "NOT_FOUND")).encode()));

    HttpResponse<String> response = gateway.post("/v1/chat/completions",
        Chunks.request(false, ""));

    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(response.body()).doesNotContain(KEY.substring(0, 8))
        .doesNotContain(KEY.substring(KEY.length() - 8));
    assertThat(gemini.lastRequest().path()).doesNotContain(KEY);
  }

  @Test
  void b03_translatedStreamEndsWithOneFinishOptionalUsageThenDone() {
    for (boolean asked : new boolean[] {false, true}) {
      gemini.then(sse(fixtureEvents("google/google-text.chunks.txt"), 0, false));
      List<String> events;
      try (SseClient sse = SseClient.open(gateway, Chunks.request(true,
          "\"stream_options\":{\"include_usage\":" + asked + "}"))) {
        events = sse.rest();
      }
      assertThat(events).last().isEqualTo("[DONE]");
      assertThat(events.stream().filter("[DONE]"::equals)).hasSize(1);
      List<JsonObject> chunks = events.subList(0, events.size() - 1).stream()
          .map(JsonObject::new).toList();
      long finishes = chunks.stream().flatMap(c -> c.getJsonArray("choices").stream())
          .filter(c -> ((JsonObject) c).getValue("finish_reason") != null).count();
      assertThat(finishes).isEqualTo(1);
      assertThat(chunks.stream().map(c -> c.getString("id")).distinct()).hasSize(1);
      assertThat(chunks.stream().map(c -> c.getString("model")).distinct())
          .containsExactly("m");
      List<JsonObject> usage = chunks.stream().filter(c -> c.containsKey("usage")).toList();
      if (asked) {
        assertThat(usage).singleElement().isEqualTo(chunks.get(chunks.size() - 1));
        assertThat(usage.get(0).getJsonArray("choices")).isEmpty();
      } else {
        assertThat(usage).isEmpty();
      }
    }
  }

  @Test
  void b06_geminiStreamThatBreaksAfterContentEndsWithAnInBandError() {
    List<String> events = fixtureEvents("google/google-text.chunks.txt");
    gemini.then(sse(List.of(events.get(0), "{\"error\":{\"code\":503,\"message\":"
        + "\"The model is overloaded.\",\"status\":\"UNAVAILABLE\"}}"), 0, false));

    List<String> received;
    try (SseClient sse = SseClient.open(gateway, Chunks.request(true, ""))) {
      received = sse.rest();
    }

    assertThat(String.join("", received)).contains("There are **3**");
    assertThat(received).doesNotContain("[DONE]");
    assertThat(new JsonObject(received.get(received.size() - 1)).getJsonObject("error")
        .getString("code")).isEqualTo("stream_interrupted");
  }
}
