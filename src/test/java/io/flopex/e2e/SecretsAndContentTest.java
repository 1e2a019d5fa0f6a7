package io.flopex.e2e;

import static io.flopex.testing.FakeUpstream.json;
import static io.flopex.testing.FakeUpstream.openAiError;
import static io.flopex.testing.FakeUpstream.sse;
import static org.assertj.core.api.Assertions.assertThat;

import io.flopex.testing.Chunks;
import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.LogCapture;
import io.flopex.testing.MutableClock;
import io.flopex.testing.SseClient;
import io.flopex.testing.Sync;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Provider keys and conversation content never leave the request they belong to. */
class SecretsAndContentTest {

  private static final String PROVIDER_KEY = "sk-canary-7f3a9c2e5b1d4f6a8c0e2b4d";
  private static final String SYSTEM_CANARY = "CANARY-SYSTEM-51f0c2";
  private static final String USER_CANARY = "CANARY-USER-9a7e33";
  private static final String TOOL_CANARY = "CANARY-TOOL-4d2b81";
  private static final List<String> CANARIES = List.of(SYSTEM_CANARY, USER_CANARY, TOOL_CANARY);

  private Vertx vertx;
  private FakeUpstream a;
  private FakeUpstream b;
  private LogCapture logs;
  private final List<String> responses = new ArrayList<>();

  @BeforeEach
  void start() {
    logs = LogCapture.debug();
    vertx = Vertx.vertx();
    a = FakeUpstream.start(vertx);
    b = FakeUpstream.start(vertx);
  }

  @AfterEach
  void stop() {
    a.close();
    b.close();
    Sync.await(vertx.close());
    logs.close();
  }

  /** Every eight-character piece of the key: a log holding any of them leaks part of it. */
  private static List<String> keyParts() {
    List<String> parts = new ArrayList<>();
    String secret = PROVIDER_KEY.substring("sk-canary-".length());
    for (int i = 0; i + 8 <= secret.length(); i++) {
      parts.add(secret.substring(i, i + 8));
    }
    return parts;
  }

  private void record(HttpResponse<String> response) {
    responses.add(response.headers().map() + "\n" + response.body());
  }

  @Test
  void b30_providerKeysNeverLeak() {
    JsonObject timeouts = new JsonObject().put("connectMs", 1000);
    try (Gateway gateway = Gateway.builder(vertx)
        .env("CANARY_KEY", PROVIDER_KEY)
        .provider("echo401", "openai", a.baseUrl(), "${CANARY_KEY}", timeouts)
        .provider("nodns", "openai", "http://flopex-canary.invalid/v1", "${CANARY_KEY}", timeouts)
        .provider("missing", "openai", b.baseUrl(), "${CANARY_KEY}", timeouts)
        .model("auth", "echo401")
        .model("dns", "nodns")
        .model("unknown-upstream-model", "missing")
        .start()) {
      a.always(json(401, openAiError("Incorrect API key provided: "
          + PROVIDER_KEY.substring(0, 12) + "****" + PROVIDER_KEY.substring(28)
          + ". You can find your API key at https://platform.openai.com/account/api-keys.",
          "invalid_request_error", "invalid_api_key")));
      b.always(json(404, openAiError("The model 'up-missing' does not exist", "invalid_request_error",
          "model_not_found")));

      HttpResponse<String> auth = gateway.post("/v1/chat/completions",
          Chunks.request(false, "").replace("\"m\"", "\"auth\""));
      record(auth);
      assertThat(auth.statusCode()).isEqualTo(502);
      assertThat(new JsonObject(auth.body()).getJsonObject("error").getString("message"))
          .contains("upstream authentication failed");
      assertThat(a.lastRequest().headers().get("authorization"))
          .isEqualTo("Bearer " + PROVIDER_KEY);

      HttpResponse<String> dns = gateway.post("/v1/chat/completions",
          Chunks.request(false, "").replace("\"m\"", "\"dns\""));
      record(dns);
      assertThat(dns.statusCode()).isEqualTo(502);
      assertThat(dns.body()).doesNotContain("flopex-canary.invalid");

      HttpResponse<String> missing = gateway.post("/v1/chat/completions",
          Chunks.request(true, "").replace("\"m\"", "\"unknown-upstream-model\""));
      record(missing);
      assertThat(missing.statusCode()).isEqualTo(404);
    }

    String everything = String.join("\n", responses) + "\n" + logs.text();
    assertThat(logs.text()).contains("echo401");
    for (String part : keyParts()) {
      assertThat(everything).doesNotContain(part);
    }
  }

  private static String canaryRequest(boolean stream) {
    JsonObject body = new JsonObject()
        .put("model", "m")
        .put("stream", stream)
        .put("messages", new JsonArray()
            .add(new JsonObject().put("role", "system").put("content", "Obey " + SYSTEM_CANARY))
            .add(new JsonObject().put("role", "user").put("content", "Say " + USER_CANARY))
            .add(new JsonObject().put("role", "assistant").putNull("content")
                .put("tool_calls", new JsonArray().add(new JsonObject().put("id", "call_1")
                    .put("type", "function").put("function", new JsonObject()
                        .put("name", "lookup")
                        .put("arguments", "{\"q\":\"" + TOOL_CANARY + "\"}")))))
            .add(new JsonObject().put("role", "tool").put("tool_call_id", "call_1")
                .put("content", "result for " + TOOL_CANARY)));
    return body.encode();
  }

  private static String echoCompletion() {
    return new JsonObject()
        .put("id", "chatcmpl-echo").put("object", "chat.completion").put("created", 1770000000)
        .put("model", "up")
        .put("choices", new JsonArray().add(new JsonObject().put("index", 0)
            .put("message", new JsonObject().put("role", "assistant")
                .put("content", "You said " + USER_CANARY + " under " + SYSTEM_CANARY)
                .put("tool_calls", new JsonArray().add(new JsonObject().put("id", "call_2")
                    .put("type", "function").put("function", new JsonObject()
                        .put("name", "lookup")
                        .put("arguments", "{\"q\":\"" + TOOL_CANARY + "\"}")))))
            .put("finish_reason", "tool_calls")))
        .put("usage", new JsonObject().put("prompt_tokens", 40).put("completion_tokens", 12)
            .put("total_tokens", 52))
        .encode();
  }

  @Test
  void b33_noPromptOrOutputContentIsStoredOrLogged() {
    MutableClock clock = new MutableClock();
    try (Gateway gateway = Gateway.builder(vertx)
        .provider("a", a.baseUrl())
        .provider("b", b.baseUrl())
        .model("m", "a", "b")
        .clock(clock)
        .start()) {
      List<String> ids = new ArrayList<>();

      a.then(json(200, echoCompletion()));
      String nonStreaming = UUID.randomUUID().toString();
      ids.add(nonStreaming);
      HttpResponse<String> plain = gateway.post("/v1/chat/completions", canaryRequest(false),
          nonStreaming);
      assertThat(plain.body()).contains(USER_CANARY);

      a.then(sse(List.of(Chunks.content("echo " + USER_CANARY), Chunks.content(SYSTEM_CANARY),
          Chunks.content(TOOL_CANARY), Chunks.finish("stop"), Chunks.usage(40, 3))));
      String streaming = UUID.randomUUID().toString();
      ids.add(streaming);
      try (SseClient client = SseClient.open(gateway, canaryRequest(true), streaming)) {
        assertThat(String.join("", client.rest())).contains(USER_CANARY);
      }

      a.then(json(400, openAiError("Your prompt '" + USER_CANARY + "' was rejected",
          "invalid_request_error", null)));
      String rejected = UUID.randomUUID().toString();
      ids.add(rejected);
      HttpResponse<String> refusal = gateway.post("/v1/chat/completions", canaryRequest(false),
          rejected);
      assertThat(refusal.statusCode()).isEqualTo(400);
      assertThat(refusal.body()).contains(USER_CANARY);

      a.then(json(500, openAiError("Internal error while handling '" + SYSTEM_CANARY + "'",
          "server_error", null)));
      b.then(json(200, echoCompletion()));
      String failover = UUID.randomUUID().toString();
      ids.add(failover);
      HttpResponse<String> failedOver = gateway.post("/v1/chat/completions",
          canaryRequest(false), failover);
      assertThat(failedOver.headers().firstValue("x-flopex-provider")).hasValue("b");

      for (String id : ids) {
        assertThat(gateway.awaitUsageRow(id).getString("model")).isEqualTo("m");
      }
      assertThat(gateway.awaitUsageRow(nonStreaming).getLong("prompt_tokens")).isEqualTo(40);
      String stored = gateway.databaseDump();
      assertThat(stored).contains(nonStreaming);
      for (String canary : CANARIES) {
        assertThat(stored).doesNotContain(canary);
        assertThat(logs.text()).doesNotContain(canary);
      }

      clock.advance(Duration.ofDays(91));
      int purged = Sync.await(gateway.flopex().retention().purge());
      assertThat(purged).isEqualTo(ids.size());
      assertThat(gateway.usageRowCount()).isZero();
    }
  }
}
