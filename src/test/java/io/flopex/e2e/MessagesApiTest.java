package io.flopex.e2e;

import static io.flopex.testing.FakeUpstream.anthropicSse;
import static io.flopex.testing.FakeUpstream.fixture;
import static io.flopex.testing.FakeUpstream.fixtureEvents;
import static io.flopex.testing.FakeUpstream.json;
import static io.flopex.testing.FakeUpstream.sse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.core.JsonValue;
import com.anthropic.core.http.StreamResponse;
import com.anthropic.errors.UnauthorizedException;
import com.anthropic.errors.NotFoundException;
import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.messages.ContentBlock;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.anthropic.models.messages.StopReason;
import com.anthropic.models.messages.Tool;
import io.flopex.testing.Chunks;
import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.Sync;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The official Anthropic Java SDK against /v1/messages, served by every kind of provider. */
class MessagesApiTest {

  private static Vertx vertx;
  private static FakeUpstream claude;
  private static FakeUpstream openai;
  private static FakeUpstream gemini;
  private static Gateway gateway;
  private static AnthropicClient client;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    claude = FakeUpstream.start(vertx);
    openai = FakeUpstream.start(vertx);
    gemini = FakeUpstream.start(vertx);
    JsonObject timeouts = new JsonObject().put("connectMs", 1000).put("firstByteMs", 5000)
        .put("idleMs", 5000).put("responseMs", 10000);
    gateway = Gateway.builder(vertx)
        .provider("claude", "anthropic", claude.rootUrl(), "sk-ant", timeouts)
        .provider("openai", "openai", openai.baseUrl(), "sk-oai", timeouts)
        .provider("gemini", "gemini", gemini.rootUrl(), "AIza-gem", timeouts)
        .model("claude-m", "claude")
        .model("openai-m", "openai")
        .model("gemini-m", "gemini")
        .model("chain", "claude", "openai")
        .start();
    client = AnthropicOkHttpClient.builder()
        .baseUrl(gateway.url(""))
        .apiKey(gateway.key())
        .maxRetries(0)
        .build();
  }

  @AfterAll
  static void stop() {
    gateway.close();
    claude.close();
    openai.close();
    gemini.close();
    Sync.await(vertx.close());
  }

  private static MessageCreateParams.Builder params(String model) {
    return MessageCreateParams.builder()
        .model(model)
        .maxTokens(1024)
        .system("Be brief.")
        .addUserMessage("Hello, how are you?");
  }

  private static String text(Message message) {
    return message.content().stream().flatMap(b -> b.text().stream())
        .map(t -> t.text()).collect(Collectors.joining());
  }

  private static Message streamed(MessageCreateParams params) {
    MessageAccumulator accumulator = MessageAccumulator.create();
    try (StreamResponse<RawMessageStreamEvent> stream =
        client.messages().createStreaming(params)) {
      stream.stream().forEach(accumulator::accumulate);
    }
    return accumulator.message();
  }

  @Test
  void anthropicUpstreamPassesThrough() {
    claude.then(json(200, fixture("anthropic/anthropic-text.json")));

    Message message = client.messages().create(params("claude-m").build());

    assertThat(text(message)).startsWith("Hello! I'm doing well");
    assertThat(message.model().asString()).isEqualTo("claude-m");
    assertThat(message.stopReason()).hasValue(StopReason.END_TURN);
    assertThat(message.usage().inputTokens()).isEqualTo(12);
    assertThat(claude.lastRequest().body().getString("model")).isEqualTo("up-claude");
    assertThat(claude.lastRequest().body().getString("system")).isEqualTo("Be brief.");
  }

  @Test
  void anthropicUpstreamStreamsThrough() {
    claude.then(anthropicSse(fixtureEvents("anthropic/anthropic-text.chunks.txt"), 0, true));

    Message message = streamed(params("claude-m").build());

    assertThat(text(message)).isEqualTo("Hello! I'm doing well, thank you for asking. How are"
        + " you doing today? Is there anything I can help you with?");
    assertThat(message.usage().outputTokens()).isEqualTo(30);
  }

  @Test
  void openAiUpstreamAnswersInAnthropicShape() {
    openai.then(json(200, fixture("openai/openai-text.json")));

    Message message = client.messages().create(params("openai-m").build());

    assertThat(text(message)).startsWith("**Holiday Name:** Galaxy Day");
    assertThat(message.stopReason()).hasValue(StopReason.END_TURN);
    assertThat(message.usage().inputTokens()).isEqualTo(16);
    assertThat(message.usage().outputTokens()).isEqualTo(363);
    JsonObject sent = openai.lastRequest().body();
    assertThat(sent.getJsonArray("messages").getJsonObject(0).getString("role"))
        .isEqualTo("system");
    assertThat(sent.getInteger("max_completion_tokens")).isEqualTo(1024);
  }

  @Test
  void openAiUpstreamStreamsAnthropicEvents() {
    openai.then(sse(fixtureEvents("openai/openai-text.chunks.txt")));

    Message message = streamed(params("openai-m").build());

    StringBuilder expected = new StringBuilder();
    for (String e : fixtureEvents("openai/openai-text.chunks.txt")) {
      JsonArray choices = new JsonObject(e).getJsonArray("choices");
      if (!choices.isEmpty()) {
        String c = choices.getJsonObject(0).getJsonObject("delta").getString("content");
        expected.append(c == null ? "" : c);
      }
    }
    assertThat(text(message)).isEqualTo(expected.toString());
    assertThat(message.stopReason()).hasValue(StopReason.END_TURN);
    assertThat(message.usage().outputTokens()).isEqualTo(300);
  }

  @Test
  void openAiToolCallsBecomeToolUseBlocksStreamingAndNot() {
    Tool weather = Tool.builder().name("weather")
        .inputSchema(Tool.InputSchema.builder().properties(JsonValue.from(Map.of())).build())
        .build();
    openai.then(json(200, fixture("groq/groq-tool-call.json")));
    Message plain = client.messages().create(params("openai-m").addTool(weather).build());
    openai.then(sse(fixtureEvents("groq/groq-tool-call.chunks.txt")));
    Message streamed = streamed(params("openai-m").addTool(weather).build());

    for (Message message : List.of(plain, streamed)) {
      ContentBlock block = message.content().get(0);
      assertThat(block.toolUse()).isPresent();
      assertThat(block.toolUse().get().name()).isEqualTo("weather");
      assertThat(message.stopReason()).hasValue(StopReason.TOOL_USE);
    }
    JsonObject sentTool = openai.lastRequest().body().getJsonArray("tools").getJsonObject(0);
    assertThat(sentTool.getJsonObject("function").getString("name")).isEqualTo("weather");
  }

  @Test
  void geminiUpstreamAnswersAndStreamsInAnthropicShape() {
    gemini.then(json(200, fixture("google/google-text.json")));
    Message plain = client.messages().create(params("gemini-m").build());
    assertThat(text(plain)).startsWith("There are **3** r's in strawberry.");
    assertThat(plain.usage().outputTokens()).isEqualTo(28 + 244);

    gemini.then(sse(fixtureEvents("google/google-text.chunks.txt"), 0, false));
    Message streamed = streamed(params("gemini-m").build());
    assertThat(text(streamed)).isEqualTo("There are **3** \"r\"s in strawberry.\n\n"
        + "st**r**awbe**rr**y");
    assertThat(streamed.stopReason()).hasValue(StopReason.END_TURN);

    gemini.then(json(200, fixture("google/google-tool-call.json")));
    Message tool = client.messages().create(params("gemini-m").build());
    assertThat(tool.content().get(0).toolUse().get().name()).isEqualTo("weather");
    assertThat(tool.stopReason()).hasValue(StopReason.TOOL_USE);
  }

  @Test
  void b06a_failoverBeforeContentIsInvisibleOnTheMessagesApi() {
    claude.then(json(529, "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
        + "\"message\":\"Overloaded\"}}"));
    openai.then(sse(List.of(Chunks.role(), Chunks.content("from openai"),
        Chunks.finish("stop"))));

    Message message = streamed(params("chain").build());

    assertThat(text(message)).isEqualTo("from openai");
  }

  @Test
  void b06c_failureAfterContentEndsWithAnErrorEvent() {
    List<String> events = new java.util.ArrayList<>(
        fixtureEvents("anthropic/anthropic-text.chunks.txt").subList(0, 6));
    events.add("{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
        + "\"message\":\"Overloaded\"}}");
    claude.then(anthropicSse(events, 0, true));
    int openaiCalls = openai.calls();

    HttpResponse<String> response = gateway.send(HttpRequest.newBuilder(
            URI.create(gateway.url("/v1/messages")))
        .header("x-api-key", gateway.key())
        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"chain\",\"max_tokens\":10,"
            + "\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
        .build());

    assertThat(response.body()).contains("event: content_block_delta")
        .doesNotContain("message_stop");
    assertThat(response.body().trim()).endsWith("}").contains("event: error");
    assertThat(openai.calls()).isEqualTo(openaiCalls);
  }

  @Test
  void errorsComeInAnthropicShape() {
    assertThatThrownBy(() -> client.messages().create(params("no-such-model").build()))
        .isInstanceOf(NotFoundException.class);

    AnthropicClient stranger = AnthropicOkHttpClient.builder().baseUrl(gateway.url(""))
        .apiKey("sk-flx-wrong").maxRetries(0).build();
    assertThatThrownBy(() -> stranger.messages().create(params("claude-m").build()))
        .isInstanceOf(UnauthorizedException.class)
        // The SDK sends the key as x-api-key: the message names that way first.
        .hasMessageContaining("x-api-key: sk-flx-...");

    HttpResponse<String> missing = gateway.send(HttpRequest.newBuilder(
            URI.create(gateway.url("/v1/messages")))
        .header("x-api-key", gateway.key())
        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"claude-m\","
            + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
        .build());
    assertThat(missing.statusCode()).isEqualTo(400);
    JsonObject body = new JsonObject(missing.body());
    assertThat(body.getString("type")).isEqualTo("error");
    assertThat(body.getJsonObject("error").getString("type")).isEqualTo("invalid_request_error");
    assertThat(body.getJsonObject("error").getString("message")).contains("max_tokens");
  }

  @Test
  void b14_thinkingBlocksPassByteForByteToAnthropicAndAreDroppedElsewhere() {
    JsonObject thinking = new JsonObject().put("type", "thinking")
        .put("thinking", "Let me think.").put("signature", "EqQBCgIYAhIM1gbcDa9GJwZA2b3h");
    JsonObject redacted = new JsonObject().put("type", "redacted_thinking")
        .put("data", "EmwKAhgBEgy3va3pzix/LafPsn4a");
    JsonObject toolUse = new JsonObject().put("type", "tool_use").put("id", "toolu_1")
        .put("name", "weather").put("input", new JsonObject().put("city", "Paris"));
    JsonObject request = new JsonObject().put("model", "claude-m").put("max_tokens", 4000)
        .put("thinking", new JsonObject().put("type", "enabled").put("budget_tokens", 2000))
        .put("messages", new JsonArray()
            .add(new JsonObject().put("role", "user").put("content", "Weather in Paris?"))
            .add(new JsonObject().put("role", "assistant").put("content",
                new JsonArray().add(thinking).add(redacted).add(toolUse)))
            .add(new JsonObject().put("role", "user").put("content", new JsonArray()
                .add(new JsonObject().put("type", "tool_result").put("tool_use_id", "toolu_1")
                    .put("content", "Sunny")))));
    claude.then(json(200, fixture("anthropic/anthropic-text.json")));
    openai.then(json(200, fixture("openai/openai-text.json")));

    HttpResponse<String> toClaude = post(request);
    HttpResponse<String> toOpenAi = post(request.copy().put("model", "openai-m"));

    assertThat(toClaude.statusCode()).isEqualTo(200);
    JsonObject sent = claude.lastRequest().body();
    assertThat(sent.getJsonObject("thinking").getInteger("budget_tokens")).isEqualTo(2000);
    assertThat(sent.getInteger("max_tokens")).isEqualTo(4000);
    JsonArray assistant = sent.getJsonArray("messages").getJsonObject(1).getJsonArray("content");
    assertThat(assistant.getJsonObject(0)).isEqualTo(thinking);
    assertThat(assistant.getJsonObject(1)).isEqualTo(redacted);

    assertThat(toOpenAi.statusCode()).isEqualTo(200);
    String forwarded = openai.lastRequest().body().encode();
    assertThat(forwarded).doesNotContain("signature").doesNotContain("EqQBCgIYAhIM")
        .doesNotContain("redacted_thinking");
    assertThat(toOpenAi.headers().firstValue("x-flopex-warnings")).hasValueSatisfying(
        w -> assertThat(w).contains("thinking"));

    HttpResponse<String> tooBig = post(request.copy().put("max_tokens", 2000));
    assertThat(tooBig.statusCode()).isEqualTo(400);
    assertThat(tooBig.body()).contains("budget_tokens");
  }

  private static HttpResponse<String> post(JsonObject body) {
    return gateway.send(HttpRequest.newBuilder(URI.create(gateway.url("/v1/messages")))
        .header("authorization", "Bearer " + gateway.key())
        .header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build());
  }
}
