package io.flopex.e2e;

import static io.flopex.testing.FakeUpstream.anthropicSse;
import static io.flopex.testing.FakeUpstream.fixture;
import static io.flopex.testing.FakeUpstream.fixtureEvents;
import static io.flopex.testing.FakeUpstream.json;
import static io.flopex.testing.FakeUpstream.openAiError;
import static io.flopex.testing.FakeUpstream.sse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flopex.bus.Addresses;
import io.flopex.testing.Chunks;
import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.LogCapture;
import io.flopex.testing.Sync;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * B33 across every path: canaries in the system prompt, the user's text, tool arguments and
 * results, and in every kind of upstream answer (text, tool calls, streams, errors that echo the
 * prompt, errors in the middle of a stream), through the three client dialects and the OpenAI,
 * Anthropic and Gemini formats, with failovers. None may reach the database, the logs (at debug
 * level), the event bus, the metrics, or the account routes that show stored data; the metadata
 * is there.
 */
class ContentCanaryTest {

  private static final String SYSTEM = "CANARY-SYS-0b7d";
  private static final String USER = "CANARY-USR-4e1a";
  private static final String TOOL = "CANARY-TOOL-93fc";
  private static final String OUTPUT = "CANARY-OUT-2c58";
  private static final String ERROR = "CANARY-ERR-7aa0";
  private static final List<String> CANARIES = List.of(SYSTEM, USER, TOOL, OUTPUT, ERROR);

  private Vertx vertx;
  private FakeUpstream openai;
  private FakeUpstream claude;
  private FakeUpstream gemini;
  private LogCapture logs;
  private Gateway gateway;
  private final List<String> busMessages = Collections.synchronizedList(new ArrayList<>());
  private final List<String> requestIds = new ArrayList<>();

  @BeforeEach
  void start() {
    logs = LogCapture.debug();
    // Built as Main builds it, so that Vert.x's own HTTP metrics are in the scrape too.
    vertx = Sync.await(io.flopex.cluster.Clustering.vertx(
        io.flopex.config.FlopexConfig.Cluster.OFF, io.flopex.config.FlopexConfig.Metrics.DEFAULTS));
    openai = FakeUpstream.start(vertx);
    claude = FakeUpstream.start(vertx);
    gemini = FakeUpstream.start(vertx);
    JsonObject timeouts = new JsonObject().put("connectMs", 1000).put("firstByteMs", 5000)
        .put("idleMs", 5000).put("responseMs", 10000);
    gateway = Gateway.builder(vertx)
        .provider("oa", "openai", openai.baseUrl(), "sk-oa-test", timeouts)
        // Responses requests reach this provider by way of Chat Completions here; the native
        // Responses path has its own canaries (ResponsesNativeTest).
        .providerSetting("oa", "nativeResponses", false)
        .provider("cl", "anthropic", claude.rootUrl(), "sk-ant-test", timeouts)
        .provider("ge", "gemini", gemini.rootUrl(), "gm-test", timeouts)
        .model("to-openai", "oa")
        .model("to-claude", "cl")
        .model("to-gemini", "ge")
        .model("failover", "oa", "cl")
        .billing()
        .start();
    gateway.adminPost("/admin/v1/accounts/" + gateway.accountId() + "/credits",
        new JsonObject().put("amount_micros", 100_000_000).put("reason", "test"));
    vertx.eventBus().<Object>localConsumer(Addresses.REQUESTS,
        message -> busMessages.add(String.valueOf(message.body())));
    vertx.eventBus().<Object>localConsumer(Addresses.HEALTH,
        message -> busMessages.add(String.valueOf(message.body())));
  }

  @AfterEach
  void stop() {
    gateway.close();
    openai.close();
    claude.close();
    gemini.close();
    Sync.await(vertx.close());
    logs.close();
  }

  private static JsonObject toolCall(String id) {
    return new JsonObject().put("id", id).put("type", "function").put("function",
        new JsonObject().put("name", "lookup").put("arguments", "{\"q\":\"" + TOOL + "\"}"));
  }

  /** A Chat Completions request with every canary of the prompt. */
  private static String chatRequest(String model, boolean stream) {
    return new JsonObject().put("model", model).put("stream", stream).put("max_tokens", 100)
        .put("tools", new JsonArray().add(new JsonObject().put("type", "function")
            .put("function", new JsonObject().put("name", "lookup")
                .put("parameters", new JsonObject().put("type", "object")))))
        .put("messages", new JsonArray()
            .add(new JsonObject().put("role", "system").put("content", "Obey " + SYSTEM))
            .add(new JsonObject().put("role", "user").put("content", "Say " + USER))
            .add(new JsonObject().put("role", "assistant").putNull("content")
                .put("tool_calls", new JsonArray().add(toolCall("call_1"))))
            .add(new JsonObject().put("role", "tool").put("tool_call_id", "call_1")
                .put("content", "found " + TOOL)))
        .encode();
  }

  /** A Messages request with every canary of the prompt. */
  private static String messagesRequest(String model, boolean stream) {
    return new JsonObject().put("model", model).put("stream", stream).put("max_tokens", 100)
        .put("system", "Obey " + SYSTEM)
        .put("messages", new JsonArray()
            .add(new JsonObject().put("role", "user").put("content", "Say " + USER))
            .add(new JsonObject().put("role", "assistant").put("content", new JsonArray()
                .add(new JsonObject().put("type", "tool_use").put("id", "toolu_1")
                    .put("name", "lookup").put("input", new JsonObject().put("q", TOOL)))))
            .add(new JsonObject().put("role", "user").put("content", new JsonArray()
                .add(new JsonObject().put("type", "tool_result").put("tool_use_id", "toolu_1")
                    .put("content", "found " + TOOL)))))
        .encode();
  }

  /** A Responses API request with every canary of the prompt. */
  private static String responsesRequest(String model, boolean stream) {
    return new JsonObject().put("model", model).put("stream", stream)
        .put("max_output_tokens", 100)
        .put("instructions", "Obey " + SYSTEM)
        .put("tools", new JsonArray().add(new JsonObject().put("type", "function")
            .put("name", "lookup").put("parameters", new JsonObject().put("type", "object"))))
        .put("input", new JsonArray()
            .add(new JsonObject().put("role", "user").put("content", "Say " + USER))
            .add(new JsonObject().put("type", "function_call").put("call_id", "call_1")
                .put("name", "lookup").put("arguments", "{\"q\":\"" + TOOL + "\"}"))
            .add(new JsonObject().put("type", "function_call_output").put("call_id", "call_1")
                .put("output", "found " + TOOL)))
        .encode();
  }

  private HttpResponse<String> send(String path, String body) {
    String id = UUID.randomUUID().toString();
    requestIds.add(id);
    return gateway.send(HttpRequest.newBuilder(URI.create(gateway.url(path)))
        .header("authorization", "Bearer " + gateway.key())
        .header("content-type", "application/json")
        .header("anthropic-version", "2023-06-01")
        .header("x-request-id", id)
        .POST(HttpRequest.BodyPublishers.ofString(body)).build());
  }

  private static String openAiAnswer() {
    return new JsonObject().put("id", "chatcmpl-c").put("object", "chat.completion")
        .put("created", 1770000000).put("model", "up")
        .put("choices", new JsonArray().add(new JsonObject().put("index", 0)
            .put("finish_reason", "tool_calls")
            .put("message", new JsonObject().put("role", "assistant")
                .put("content", OUTPUT + " echoing " + USER + " " + SYSTEM)
                .put("tool_calls", new JsonArray().add(toolCall("call_2"))))))
        .put("usage", new JsonObject().put("prompt_tokens", 30).put("completion_tokens", 9)
            .put("total_tokens", 39))
        .encode();
  }

  private static String claudeAnswer() {
    JsonObject answer = new JsonObject(fixture("anthropic/anthropic-text.json"));
    answer.put("content", new JsonArray()
        .add(new JsonObject().put("type", "text").put("text", OUTPUT + " " + USER))
        .add(new JsonObject().put("type", "tool_use").put("id", "toolu_2").put("name", "lookup")
            .put("input", new JsonObject().put("q", TOOL))));
    return answer.put("stop_reason", "tool_use").encode();
  }

  private static List<String> claudeStream() {
    List<String> events = new ArrayList<>();
    for (String event : fixtureEvents("anthropic/anthropic-text.chunks.txt")) {
      events.add(event.replace("\"Hello\"", "\"" + OUTPUT + " " + USER + "\""));
    }
    return events;
  }

  private static String geminiAnswer() {
    JsonObject answer = new JsonObject(fixture("google/google-text.json"));
    answer.getJsonArray("candidates").getJsonObject(0).getJsonObject("content")
        .put("parts", new JsonArray()
            .add(new JsonObject().put("text", OUTPUT + " " + SYSTEM))
            .add(new JsonObject().put("functionCall", new JsonObject().put("name", "lookup")
                .put("args", new JsonObject().put("q", TOOL)))));
    return answer.encode();
  }

  private static List<String> geminiStream() {
    List<String> events = new ArrayList<>();
    for (String event : fixtureEvents("google/google-text.chunks.txt")) {
      events.add(event.replace("There are **3**", OUTPUT + " " + USER));
    }
    return events;
  }

  private String token() {
    return gateway.accountToken();
  }

  private String get(String path, String bearer) {
    HttpResponse<String> response = gateway.send(HttpRequest.newBuilder(URI.create(
        gateway.url(path))).header("authorization", "Bearer " + bearer).GET().build());
    assertThat(response.statusCode()).as(path).isEqualTo(200);
    return response.body();
  }

  @Test
  void b33_noCanaryIsKeptOnAnyPath() {
    // Chat Completions to each provider format, plain and streamed.
    openai.then(json(200, openAiAnswer()));
    assertThat(send("/v1/chat/completions", chatRequest("to-openai", false)).body())
        .contains(OUTPUT);
    openai.then(sse(List.of(Chunks.content(OUTPUT + " " + USER), Chunks.finish("stop"),
        Chunks.usage(30, 4))));
    assertThat(send("/v1/chat/completions", chatRequest("to-openai", true)).body())
        .contains(OUTPUT);
    claude.then(json(200, claudeAnswer()));
    assertThat(send("/v1/chat/completions", chatRequest("to-claude", false)).body())
        .contains(OUTPUT).contains(TOOL);
    claude.then(anthropicSse(claudeStream(), 0, true));
    assertThat(send("/v1/chat/completions", chatRequest("to-claude", true)).body())
        .contains(OUTPUT);
    gemini.then(json(200, geminiAnswer()));
    assertThat(send("/v1/chat/completions", chatRequest("to-gemini", false)).body())
        .contains(OUTPUT).contains(TOOL);
    gemini.then(sse(geminiStream(), 0, false));
    assertThat(send("/v1/chat/completions", chatRequest("to-gemini", true)).body())
        .contains(OUTPUT);

    // The Messages dialect to each provider format.
    openai.then(json(200, openAiAnswer()));
    assertThat(send("/v1/messages", messagesRequest("to-openai", false)).body())
        .contains(OUTPUT);
    claude.then(anthropicSse(claudeStream(), 0, true));
    assertThat(send("/v1/messages", messagesRequest("to-claude", true)).body())
        .contains(OUTPUT);
    gemini.then(sse(geminiStream(), 0, false));
    assertThat(send("/v1/messages", messagesRequest("to-gemini", true)).body())
        .contains(OUTPUT);

    // The Responses dialect to each provider format.
    openai.then(json(200, openAiAnswer()));
    assertThat(send("/v1/responses", responsesRequest("to-openai", false)).body())
        .contains(OUTPUT);
    claude.then(anthropicSse(claudeStream(), 0, true));
    assertThat(send("/v1/responses", responsesRequest("to-claude", true)).body())
        .contains(OUTPUT);
    gemini.then(json(200, geminiAnswer()));
    assertThat(send("/v1/responses", responsesRequest("to-gemini", false)).body())
        .contains(OUTPUT);
    claude.then(json(400, new JsonObject().put("type", "error").put("error", new JsonObject()
        .put("type", "invalid_request_error").put("message", ERROR + " in " + USER)).encode()));
    assertThat(send("/v1/responses", responsesRequest("to-claude", true)).body())
        .contains(ERROR);

    // Upstream errors that echo the prompt: they go back to the client, and nowhere else.
    claude.then(json(400, new JsonObject().put("type", "error").put("error", new JsonObject()
        .put("type", "invalid_request_error").put("message", ERROR + " in " + USER)).encode()));
    assertThat(send("/v1/chat/completions", chatRequest("to-claude", false)).body())
        .contains(ERROR);
    gemini.then(json(400, new JsonObject().put("error", new JsonObject().put("code", 400)
        .put("status", "INVALID_ARGUMENT").put("message", ERROR + " near " + SYSTEM)).encode()));
    assertThat(send("/v1/messages", messagesRequest("to-gemini", false)).statusCode())
        .isEqualTo(400);

    // A failover whose first answer echoes the prompt in a server error, plain and streamed.
    openai.then(json(500, openAiError(ERROR + " while reading " + USER, "server_error", null)));
    claude.then(json(200, claudeAnswer()));
    HttpResponse<String> failedOver = send("/v1/chat/completions",
        chatRequest("failover", false));
    assertThat(failedOver.headers().firstValue("x-flopex-provider")).hasValue("cl");
    openai.then(json(503, openAiError(ERROR + " " + SYSTEM, "server_error", null)));
    claude.then(anthropicSse(claudeStream(), 0, true));
    assertThat(send("/v1/messages", messagesRequest("failover", true)).body())
        .contains(OUTPUT);

    // An error inside a stream, after content was sent.
    openai.then(sse(List.of(Chunks.content(OUTPUT),
        new JsonObject().put("error", new JsonObject().put("message", ERROR + " " + USER)
            .put("type", "server_error")).encode()), 0, false));
    send("/v1/chat/completions", chatRequest("to-openai", true));

    for (String id : requestIds) {
      gateway.awaitUsageRow(id);
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> busMessages.stream()
        .filter(m -> m.contains("requestId")).count() == requestIds.size());

    // Metadata is kept: every request has its row, and tokens where the provider counted them.
    assertThat(gateway.sql("SELECT count(*) FROM usage_events WHERE prompt_tokens > 0").get(0)
        .getLong(0)).isGreaterThanOrEqualTo(10);
    assertThat(gateway.sql("SELECT count(*) FROM ledger WHERE kind = 'charge'").get(0)
        .getLong(0)).isGreaterThanOrEqualTo(10);

    String token = token();
    StringBuilder shown = new StringBuilder(get("/v1/account/export", token));
    shown.append(get("/v1/credits", token)).append(get("/v1/usage", token))
        .append(gateway.adminGet("/admin/v1/accounts/" + gateway.accountId() + "/export"));
    for (String id : requestIds) {
      shown.append(get("/v1/generation?id=" + id, gateway.key()));
    }
    assertThat(shown).contains(requestIds.get(0));

    HttpResponse<String> scrape = gateway.send(HttpRequest.newBuilder(URI.create(
        gateway.url("/metrics"))).GET().build());
    assertThat(scrape.statusCode()).isEqualTo(200);
    assertThat(scrape.body()).contains("flopex_requests_total").contains("vertx_http_server");
    String metrics = scrape.body();
    String stored = gateway.databaseDump();
    String logged = logs.text();
    String bus = String.join("\n", busMessages);
    assertThat(logged).contains(requestIds.get(0));
    for (String canary : CANARIES) {
      assertThat(stored).as("database").doesNotContain(canary);
      assertThat(logged).as("logs").doesNotContain(canary);
      assertThat(bus).as("event bus").doesNotContain(canary);
      assertThat(shown.toString()).as("account routes").doesNotContain(canary);
      assertThat(metrics).as("metrics").doesNotContain(canary);
    }
  }
}
