package io.flopex.e2e;

import static io.flopex.testing.FakeUpstream.anthropicSse;
import static io.flopex.testing.FakeUpstream.fixture;
import static io.flopex.testing.FakeUpstream.fixtureEvents;
import static io.flopex.testing.FakeUpstream.json;
import static io.flopex.testing.FakeUpstream.rawWrites;
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
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** OpenAI-format clients served by Anthropic's Messages API, translated both ways. */
class AnthropicUpstreamTest {

  private static Vertx vertx;
  private static FakeUpstream claude;
  private static FakeUpstream backup;
  private static Gateway gateway;
  private static OpenAIClient client;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    claude = FakeUpstream.start(vertx);
    backup = FakeUpstream.start(vertx);
    JsonObject timeouts = new JsonObject().put("connectMs", 1000).put("firstByteMs", 5000)
        .put("idleMs", 5000).put("responseMs", 10000);
    gateway = Gateway.builder(vertx)
        .provider("claude", "anthropic", claude.rootUrl(), "sk-ant-test", timeouts)
        .provider("backup", backup.baseUrl())
        .model("m", "claude", "backup")
        .model("priced", new JsonObject().put("prompt", 3).put("completion", 15)
            .put("cacheRead", 0.3).put("cacheWrite", 3.75), "claude")
        .start();
    client = gateway.openAi();
  }

  @AfterAll
  static void stop() {
    gateway.close();
    claude.close();
    backup.close();
    Sync.await(vertx.close());
  }

  private static ChatCompletionCreateParams.Builder params() {
    return ChatCompletionCreateParams.builder()
        .model("m")
        .addSystemMessage("Be kind.")
        .addUserMessage("Hello, how are you?");
  }

  @Test
  void nonStreamingTextIsTranslatedToAChatCompletion() {
    claude.then(json(200, fixture("anthropic/anthropic-text.json")));

    ChatCompletion completion = client.chat().completions().create(params().build());

    assertThat(completion.choices().get(0).message().content()).hasValue(
        "Hello! I'm doing well, thanks for asking. How are you doing today? Is there anything I"
            + " can help you with?");
    assertThat(completion.choices().get(0).finishReason().asString()).isEqualTo("stop");
    assertThat(completion.model()).isEqualTo("m");
    assertThat(completion.usage().get().promptTokens()).isEqualTo(12);
    assertThat(completion.usage().get().completionTokens()).isEqualTo(29);

    FakeUpstream.Received sent = claude.lastRequest();
    assertThat(sent.path()).isEqualTo("/v1/messages");
    assertThat(sent.headers().get("x-api-key")).isEqualTo("sk-ant-test");
    assertThat(sent.headers().get("anthropic-version")).isEqualTo("2023-06-01");
    assertThat(sent.headers().get("authorization")).isNull();
    assertThat(sent.body().getString("model")).isEqualTo("up-claude");
    assertThat(sent.body().getJsonArray("system").getJsonObject(0).getString("text"))
        .isEqualTo("Be kind.");
    assertThat(sent.body().getInteger("max_tokens")).isEqualTo(4096);
  }

  @Test
  void nonStreamingToolUseBecomesAToolCall() {
    claude.then(json(200, fixture("anthropic/anthropic-json-tool.1.json")));

    ChatCompletion completion = client.chat().completions().create(params().build());

    var call = completion.choices().get(0).message().toolCalls().get().get(0).asFunction();
    assertThat(call.function().name()).isEqualTo("json");
    JsonObject expected = new JsonObject(fixture("anthropic/anthropic-json-tool.1.json"))
        .getJsonArray("content").getJsonObject(0).getJsonObject("input");
    assertThat(new JsonObject(call.function().arguments())).isEqualTo(expected);
    assertThat(completion.choices().get(0).finishReason().asString()).isEqualTo("tool_calls");
  }

  @Test
  void streamedTextAndUsageAreTranslatedEventByEvent() {
    claude.then(anthropicSse(fixtureEvents("anthropic/anthropic-text.chunks.txt"), 0, true));
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

    assertThat(text.toString()).isEqualTo("Hello! I'm doing well, thank you for asking. How are"
        + " you doing today? Is there anything I can help you with?");
    assertThat(finishes).containsExactly("stop");
    assertThat(completionTokens).containsExactly(30L);
    assertThat(claude.lastRequest().body().getBoolean("stream")).isTrue();
  }

  @Test
  void streamedToolUseReassemblesItsArguments() {
    claude.then(anthropicSse(fixtureEvents("anthropic/anthropic-json-tool.1.chunks.txt"), 0,
        true));

    List<String> events;
    try (SseClient sse = SseClient.open(gateway, Chunks.request(true, ""))) {
      events = sse.rest();
    }

    StringBuilder arguments = new StringBuilder();
    List<String> ids = new ArrayList<>();
    String finish = null;
    for (String e : events.subList(0, events.size() - 1)) {
      for (Object c : new JsonObject(e).getJsonArray("choices")) {
        JsonObject choice = (JsonObject) c;
        if (choice.getValue("finish_reason") != null) {
          finish = choice.getString("finish_reason");
        }
        JsonArray calls = choice.getJsonObject("delta").getJsonArray("tool_calls");
        if (calls != null) {
          JsonObject call = calls.getJsonObject(0);
          assertThat(call.getInteger("index")).isZero();
          if (call.getString("id") != null) {
            ids.add(call.getString("id"));
          }
          arguments.append(call.getJsonObject("function").getString("arguments"));
        }
      }
    }
    assertThat(ids).containsExactly("toolu_01KFbKqPYSuAKujiL6mTfzYA");
    assertThat(new JsonObject(arguments.toString()).getJsonArray("elements")).hasSize(1);
    assertThat(finish).isEqualTo("tool_calls");
    assertThat(events).last().isEqualTo("[DONE]");
  }

  @Test
  void b03_translatedStreamEndsWithOneFinishOptionalUsageThenDone() {
    for (boolean asked : new boolean[] {false, true}) {
      claude.then(anthropicSse(fixtureEvents("anthropic/anthropic-text.chunks.txt"), 0, true));
      List<String> events;
      try (SseClient sse = SseClient.open(gateway, Chunks.request(true,
          "\"stream_options\":{\"include_usage\":" + asked + "}"))) {
        events = sse.rest();
      }
      assertThat(events).last().isEqualTo("[DONE]");
      List<JsonObject> chunks = events.subList(0, events.size() - 1).stream()
          .map(JsonObject::new).toList();
      long finishes = chunks.stream().flatMap(c -> c.getJsonArray("choices").stream())
          .filter(c -> ((JsonObject) c).getValue("finish_reason") != null).count();
      assertThat(finishes).isEqualTo(1);
      assertThat(chunks.stream().map(c -> c.getString("id")).distinct()).hasSize(1);
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
  void b06a_anthropicErrorBeforeContentFailsOverToAnotherKindOfProvider() {
    claude.then(anthropicSse(List.of(
        fixtureEvents("anthropic/anthropic-text.chunks.txt").get(0),
        "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}"),
        0, true));
    backup.then(sse(List.of(Chunks.role(), Chunks.content("from backup"),
        Chunks.finish("stop"))));

    try (SseClient sse = SseClient.open(gateway, Chunks.request(true, ""))) {
      assertThat(sse.header("x-flopex-provider")).isEqualTo("backup");
      List<String> events = sse.rest();
      assertThat(String.join("", events)).contains("from backup").doesNotContain("error");
      assertThat(events).last().isEqualTo("[DONE]");
    }
  }

  @Test
  void b06c_anthropicOverloadAfterContentEndsWithAnInBandError() {
    int backupCalls = backup.calls();
    List<String> events = new ArrayList<>(
        fixtureEvents("anthropic/anthropic-text.chunks.txt").subList(0, 6));
    events.add("{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
        + "\"message\":\"Overloaded\"}}");
    claude.then(anthropicSse(events, 0, true));
    String requestId = UUID.randomUUID().toString();

    List<String> received;
    try (SseClient sse = SseClient.open(gateway, Chunks.request(true, ""), requestId)) {
      received = sse.rest();
    }

    assertThat(String.join("", received)).contains("Hello");
    assertThat(received).doesNotContain("[DONE]");
    assertThat(new JsonObject(received.get(received.size() - 1)).getJsonObject("error")
        .getString("code")).isEqualTo("stream_interrupted");
    assertThat(backup.calls()).isEqualTo(backupCalls);
    assertThat(gateway.awaitUsageRow(requestId).getString("outcome"))
        .isEqualTo("stream_interrupted");
  }

  @Test
  void b02_multiByteTextSplitInsideCharactersOnTheTranslatedPath() {
    String text = "가나다🙂é";
    String delta = "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
        + "\"text_delta\",\"text\":\"" + text + "\"}}";
    List<String> recorded = fixtureEvents("anthropic/anthropic-text.chunks.txt");
    byte[] frame = ("event: content_block_delta\ndata: " + delta + "\n\n")
        .getBytes(StandardCharsets.UTF_8);
    int start = new String(frame, StandardCharsets.UTF_8).indexOf("가");
    int at = ("event: content_block_delta\ndata: " + delta).substring(0, start)
        .getBytes(StandardCharsets.UTF_8).length;
    List<Buffer> pieces = new ArrayList<>();
    pieces.add(Buffer.buffer(frames(recorded.subList(0, 2))));
    // Cut inside 나 (3 bytes each), inside 🙂 (4 bytes) and inside é (2 bytes).
    int[] cuts = {at + 4, at + 9 + 2, at + 9 + 4 + 1};
    int from = 0;
    for (int cut : cuts) {
      pieces.add(Buffer.buffer(java.util.Arrays.copyOfRange(frame, from, cut)));
      from = cut;
    }
    pieces.add(Buffer.buffer(java.util.Arrays.copyOfRange(frame, from, frame.length)));
    pieces.add(Buffer.buffer(frames(recorded.subList(recorded.size() - 3, recorded.size()))));
    claude.then(rawWrites(pieces, 20, true));

    List<String> events;
    try (SseClient sse = SseClient.open(gateway, Chunks.request(true, ""))) {
      events = sse.rest();
    }

    StringBuilder received = new StringBuilder();
    for (String e : events.subList(0, events.size() - 1)) {
      for (Object c : new JsonObject(e).getJsonArray("choices")) {
        String content = ((JsonObject) c).getJsonObject("delta").getString("content");
        if (content != null) {
          received.append(content);
        }
      }
    }
    assertThat(received.toString()).isEqualTo(text);
  }

  private static String frames(List<String> events) {
    StringBuilder out = new StringBuilder();
    for (String e : events) {
      out.append("event: ").append(new JsonObject(e).getString("type")).append("\ndata: ")
          .append(e).append("\n\n");
    }
    return out.toString();
  }

  @Test
  void b26_cacheWritesAndReadsArePricedOnceEachAtTheirOwnRate() {
    JsonObject answer = new JsonObject(fixture("anthropic/anthropic-text.json"));
    answer.put("usage", new JsonObject().put("input_tokens", 3)
        .put("cache_creation_input_tokens", 12304).put("cache_read_input_tokens", 0)
        .put("output_tokens", 550));
    claude.then(json(200, answer.encode()));
    String requestId = UUID.randomUUID().toString();

    var response = gateway.post("/v1/chat/completions",
        Chunks.request(false, "").replace("\"m\"", "\"priced\""), requestId);

    JsonObject usage = new JsonObject(response.body()).getJsonObject("usage");
    assertThat(usage.getLong("prompt_tokens")).isEqualTo(12307);
    assertThat(usage.getJsonObject("prompt_tokens_details").getLong("cache_write_tokens"))
        .isEqualTo(12304);
    Row row = gateway.awaitUsageRow(requestId);
    assertThat(row.getLong("prompt_tokens")).isEqualTo(12307);
    assertThat(row.getLong("cache_write_tokens")).isEqualTo(12304);
    // 3 x 3 + 12304 x 3.75 + 550 x 15 USD per million = 54 399 micro-USD
    assertThat(row.getLong("cost_micros")).isEqualTo(54_399);
  }

  @Test
  void b07_systemMessagesAndEmptyTextAreShapedForAnthropic() {
    claude.then(json(200, fixture("anthropic/anthropic-text.json")));
    JsonObject body = new JsonObject().put("model", "m").put("messages", new JsonArray()
        .add(new JsonObject().put("role", "system").put("content", "S1"))
        .add(new JsonObject().put("role", "user").put("content", "U1"))
        .add(new JsonObject().put("role", "system").put("content", "S2"))
        .add(new JsonObject().put("role", "assistant").put("content", "")
            .put("tool_calls", new JsonArray().add(new JsonObject().put("id", "call_1")
                .put("type", "function").put("function", new JsonObject().put("name", "f")
                    .put("arguments", "{\"x\":1}")))))
        .add(new JsonObject().put("role", "tool").put("tool_call_id", "call_1")
            .put("content", "42"))
        .add(new JsonObject().put("role", "user").put("content", new JsonArray()
            .add(new JsonObject().put("type", "text").put("text", ""))
            .add(new JsonObject().put("type", "text").put("text", "U2")))));

    assertThat(gateway.post("/v1/chat/completions", body.encode()).statusCode()).isEqualTo(200);

    JsonObject sent = claude.lastRequest().body();
    assertThat(sent.getJsonArray("system")).containsExactly(
        new JsonObject().put("type", "text").put("text", "S1"),
        new JsonObject().put("type", "text").put("text", "S2"));
    JsonArray messages = sent.getJsonArray("messages");
    assertThat(messages.stream().map(m -> ((JsonObject) m).getString("role")))
        .containsExactly("user", "assistant", "user");
    assertThat(messages.getJsonObject(1).getJsonArray("content")).containsExactly(
        new JsonObject().put("type", "tool_use").put("id", "call_1").put("name", "f")
            .put("input", new JsonObject().put("x", 1)));
    JsonArray last = messages.getJsonObject(2).getJsonArray("content");
    assertThat(last.getJsonObject(0).getString("type")).isEqualTo("tool_result");
    assertThat(last.getJsonObject(0).getString("tool_use_id")).isEqualTo("call_1");
    assertThat(last.getJsonObject(1)).isEqualTo(
        new JsonObject().put("type", "text").put("text", "U2"));
    assertThat(last).hasSize(2);
  }
}
