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
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Providers and clients that send legal but unexpected shapes through the translators. */
class MisbehavingTranslationTest {

  private static Vertx vertx;
  private static FakeUpstream openai;
  private static FakeUpstream claude;
  private static FakeUpstream gemini;
  private static Gateway gateway;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    openai = FakeUpstream.start(vertx);
    claude = FakeUpstream.start(vertx);
    gemini = FakeUpstream.start(vertx);
    JsonObject timeouts = new JsonObject().put("connectMs", 1000).put("firstByteMs", 1500)
        .put("idleMs", 3000).put("responseMs", 5000);
    gateway = Gateway.builder(vertx)
        .provider("openai", "openai-compatible", openai.baseUrl(), "sk-o", timeouts)
        .provider("claude", "anthropic", claude.rootUrl(), "sk-a", timeouts)
        .provider("gemini", "gemini", gemini.rootUrl(), "sk-g", timeouts)
        .model("openai-m", "openai")
        .model("claude-m", "claude")
        .model("gemini-m", "gemini")
        .model("claude-then-openai", "claude", "openai")
        .start();
  }

  @AfterAll
  static void stop() {
    gateway.close();
    for (FakeUpstream f : List.of(openai, claude, gemini)) {
      f.close();
    }
    Sync.await(vertx.close());
  }

  private static String chat(String model, boolean stream) {
    return Chunks.request(stream, "").replace("\"m\"", "\"" + model + "\"");
  }

  private static HttpResponse<String> messages(String body) {
    return gateway.send(HttpRequest.newBuilder(URI.create(gateway.url("/v1/messages")))
        .header("x-api-key", gateway.key())
        .POST(HttpRequest.BodyPublishers.ofString(body)).build());
  }

  @Test
  void malformedAnthropicAnswerFailsOverInsteadOfFailingTheGateway() {
    claude.then(json(200, "{\"content\":\"not blocks\",\"stop_reason\":\"end_turn\"}"));
    openai.then(json(200, fixture("openai/openai-text.json")));

    HttpResponse<String> response = gateway.post("/v1/chat/completions",
        chat("claude-then-openai", false));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("x-flopex-provider")).hasValue("openai");
  }

  @ParameterizedTest
  @ValueSource(strings = {"gemini-m|{\"candidates\":[\"oops\"]}",
      "gemini-m|{\"candidates\":[{\"content\":{\"parts\":[\"oops\"]}}]}",
      "claude-m|{\"content\":[{\"type\":\"tool_use\",\"input\":{}}],\"usage\":7}",
      "openai-m|{\"choices\":[\"oops\"]}"})
  void malformedAnswersAreAProviderFailureNotAGatewayError(String testCase) {
    String model = testCase.substring(0, testCase.indexOf('|'));
    String answer = testCase.substring(testCase.indexOf('|') + 1);
    FakeUpstream fake = model.startsWith("gemini") ? gemini
        : model.startsWith("claude") ? claude : openai;
    fake.then(json(200, answer));

    HttpResponse<String> response = gateway.post("/v1/chat/completions", chat(model, false));

    assertThat(response.statusCode()).isIn(200, 502);
    assertThat(response.body()).doesNotContain("internal_error");
  }

  @Test
  void malformedStreamEventsAfterContentEndWithAnInterruptionNotAnInternalError() {
    openai.then(sse(List.of(Chunks.content("partial"),
        "{\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[\"oops\"]},"
            + "\"finish_reason\":null}]}",
        Chunks.finish("stop"))));
    String body = "{\"model\":\"openai-m\",\"max_tokens\":50,\"stream\":true,"
        + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    HttpResponse<String> response = messages(body);

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).contains("partial").doesNotContain("internal");
    assertThat(response.body().contains("message_stop") || response.body().contains(
        "event: error")).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "[{\"role\":\"user\",\"content\":[{\"type\":\"image\",\"source\":null}]}]",
      "[{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"x\","
          + "\"content\":5}]}]"})
  void clientBlocksOfAnUnexpectedShapeGetA400NotA500(String messagesJson) {
    for (String model : List.of("openai-m", "gemini-m")) {
      HttpResponse<String> response = messages("{\"model\":\"" + model + "\",\"max_tokens\":5,"
          + "\"messages\":" + messagesJson + "}");

      assertThat(response.statusCode()).as(model).isEqualTo(400);
      assertThat(new JsonObject(response.body()).getString("type")).isEqualTo("error");
    }
  }

  @Test
  void reasoningBeforeTheAnswerIsNotMistakenForSilenceOnTheMessagesApi() {
    List<String> chunks = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      chunks.add(new JsonObject(Chunks.content("x")).put("choices", new JsonArray().add(
          new JsonObject().put("index", 0).put("delta", new JsonObject()
              .put("reasoning_content", "thinking " + i)).putNull("finish_reason"))).encode());
    }
    chunks.add(Chunks.content("answer"));
    chunks.add(Chunks.finish("stop"));
    openai.then(sse(chunks, 600, true));

    HttpResponse<String> response = messages("{\"model\":\"openai-m\",\"max_tokens\":50,"
        + "\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).contains("answer").contains("message_stop")
        .doesNotContain("thinking 0");
  }

  @Test
  void anAnthropicStreamCutShortIsBilledByEstimateNotByItsPlaceholder() {
    List<String> events = new ArrayList<>(FakeUpstream.fixtureEvents(
        "anthropic/anthropic-text.chunks.txt").subList(0, 2));
    for (int i = 0; i < 100; i++) {
      events.add("{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
          + "\"text_delta\",\"text\":\"word" + i + " and more \"}}");
    }
    claude.then(anthropicSse(events, 0, false));
    String requestId = UUID.randomUUID().toString();

    try (SseClient sse = SseClient.open(gateway, chat("claude-m", true), requestId)) {
      sse.rest();
    }

    Row row = gateway.awaitUsageRow(requestId);
    assertThat(row.getString("outcome")).isEqualTo("stream_interrupted");
    assertThat(row.getBoolean("tokens_estimated")).isTrue();
    assertThat(row.getLong("completion_tokens")).isGreaterThan(100);
  }

  @Test
  void anAnswerWithoutUsageIsEstimatedFromItsText() {
    JsonObject answer = new JsonObject(fixture("openai/openai-text.json"));
    answer.remove("usage");
    openai.then(json(200, answer.encode()));
    String requestId = UUID.randomUUID().toString();

    gateway.post("/v1/chat/completions", chat("openai-m", false), requestId);

    Row row = gateway.awaitUsageRow(requestId);
    assertThat(row.getBoolean("tokens_estimated")).isTrue();
    assertThat(row.getLong("completion_tokens")).isGreaterThan(100);
  }

  @Test
  void aBlockedGeminiPromptStreamsAChoiceWithARole() {
    gemini.then(sse(List.of("{\"promptFeedback\":{\"blockReason\":\"SAFETY\"}}"), 0, false));

    List<String> events;
    try (SseClient sse = SseClient.open(gateway, chat("gemini-m", true))) {
      events = sse.rest();
    }

    JsonObject first = new JsonObject(events.get(0));
    JsonObject choice = first.getJsonArray("choices").getJsonObject(0);
    assertThat(choice.getJsonObject("delta").getString("role")).isEqualTo("assistant");
    assertThat(choice.getString("finish_reason")).isEqualTo("content_filter");
    assertThat(events).last().isEqualTo("[DONE]");
  }

  @Test
  void geminiToolCallsAreNumberedWithinEachChoice() {
    JsonObject call = new JsonObject().put("functionCall", new JsonObject().put("name", "f")
        .put("args", new JsonObject()));
    String chunk = new JsonObject().put("candidates", new JsonArray()
        .add(new JsonObject().put("index", 0).put("content", new JsonObject().put("role", "model")
            .put("parts", new JsonArray().add(call))).put("finishReason", "STOP"))
        .add(new JsonObject().put("index", 1).put("content", new JsonObject().put("role", "model")
            .put("parts", new JsonArray().add(call))).put("finishReason", "STOP"))).encode();
    gemini.then(sse(List.of(chunk), 0, false));

    List<String> events;
    try (SseClient sse = SseClient.open(gateway, Chunks.request(true, "\"n\":2")
        .replace("\"m\"", "\"gemini-m\""))) {
      events = sse.rest();
    }

    List<String> seen = new ArrayList<>();
    for (String e : events.subList(0, events.size() - 1)) {
      for (Object c : new JsonObject(e).getJsonArray("choices")) {
        JsonObject choice = (JsonObject) c;
        JsonArray calls = choice.getJsonObject("delta").getJsonArray("tool_calls");
        if (calls != null) {
          seen.add(choice.getInteger("index") + ":" + calls.getJsonObject(0).getInteger("index"));
        }
      }
    }
    assertThat(seen).containsExactly("0:0", "1:0");
  }

  @Test
  void anAnthropicToolCalledWithoutInputStreamsEmptyObjectArguments() {
    claude.then(anthropicSse(List.of(
        FakeUpstream.fixtureEvents("anthropic/anthropic-text.chunks.txt").get(0),
        "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\","
            + "\"id\":\"toolu_x\",\"name\":\"now\",\"input\":{}}}",
        "{\"type\":\"content_block_stop\",\"index\":0}",
        "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},"
            + "\"usage\":{\"output_tokens\":5}}",
        "{\"type\":\"message_stop\"}"), 0, true));

    StringBuilder arguments = new StringBuilder();
    try (SseClient sse = SseClient.open(gateway, chat("claude-m", true))) {
      for (String e : sse.rest()) {
        if (e.equals("[DONE]")) {
          continue;
        }
        for (Object c : new JsonObject(e).getJsonArray("choices")) {
          JsonArray calls = ((JsonObject) c).getJsonObject("delta").getJsonArray("tool_calls");
          if (calls != null) {
            arguments.append(calls.getJsonObject(0).getJsonObject("function")
                .getString("arguments"));
          }
        }
      }
    }
    assertThat(new JsonObject(arguments.toString())).isEqualTo(new JsonObject());
  }

  @Test
  void anOpenAiRefusalReachesAMessagesClientAsARefusal() {
    JsonObject answer = new JsonObject(fixture("openai/openai-text.json"));
    answer.getJsonArray("choices").getJsonObject(0).getJsonObject("message")
        .putNull("content").put("refusal", "I can't help with that.");
    openai.then(json(200, answer.encode()));

    HttpResponse<String> response = messages("{\"model\":\"openai-m\",\"max_tokens\":50,"
        + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");

    JsonObject message = new JsonObject(response.body());
    assertThat(message.getString("stop_reason")).isEqualTo("refusal");
    assertThat(message.getJsonArray("content").getJsonObject(0).getString("text"))
        .isEqualTo("I can't help with that.");
  }

  @Test
  void anAnthropicStreamEndsAtMessageStopEvenIfTheProviderKeepsItOpen() {
    claude.then((req, resp, v) -> {
      resp.setStatusCode(200).setChunked(true).putHeader("content-type", "text/event-stream");
      for (String e : FakeUpstream.fixtureEvents("anthropic/anthropic-text.chunks.txt")) {
        resp.write("event: " + new JsonObject(e).getString("type") + "\ndata: " + e + "\n\n");
      }
    });
    String requestId = UUID.randomUUID().toString();

    try (SseClient sse = SseClient.open(gateway, chat("claude-m", true), requestId)) {
      assertThat(sse.rest()).last().isEqualTo("[DONE]");
    }
    assertThat(gateway.awaitUsageRow(requestId).getString("outcome")).isEqualTo("success");
  }
}
