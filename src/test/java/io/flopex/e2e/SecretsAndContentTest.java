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
        .provider("gemini", "gemini", b.rootUrl(), "${CANARY_KEY}", timeouts)
        .model("auth", "echo401")
        .model("dns", "nodns")
        .model("unknown-upstream-model", "missing")
        .model("unknown-gemini-model", "gemini")
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

      // Gemini's own 404 for a model it does not know; its key goes in a header, never the URL.
      b.then(json(404, new JsonObject().put("error", new JsonObject().put("code", 404)
          .put("message", "models/up-gemini is not found for API version v1beta, or is not"
              + " supported for generateContent. Call ListModels to see the list of available"
              + " models and their supported methods.").put("status", "NOT_FOUND")).encode()));
      HttpResponse<String> geminiMissing = gateway.post("/v1/chat/completions",
          Chunks.request(false, "").replace("\"m\"", "\"unknown-gemini-model\""));
      record(geminiMissing);
      assertThat(geminiMissing.statusCode()).isEqualTo(404);
      FakeUpstream.Received sent = b.lastRequest();
      assertThat(sent.headers().get("x-goog-api-key")).isEqualTo(PROVIDER_KEY);
      assertThat(sent.uri()).doesNotContain(PROVIDER_KEY);
    }

    String everything = String.join("\n", responses) + "\n" + logs.text();
    assertThat(logs.text()).contains("echo401");
    for (String part : keyParts()) {
      assertThat(everything).doesNotContain(part);
    }
  }

  /**
   * Every secret Flopex holds or is shown, exercised on every route that takes one, right and
   * wrong, with every logger at debug: none of them, nor any eight characters of one, is logged.
   */
  @Test
  void noKeyTokenOrSecretIsEverLogged() {
    String stripeKey = "sk_test_canary_5d9e1f03a7b24c68";
    String webhookSecret = "whsec_canary_8b3f27d4e6a1c905";
    String tokenSecret = "jwt-secret-canary-4f8a2d6c1e9b7035aa";
    String providerKey = "sk-prov-canary-71c3e5a9d2f4b806";
    io.vertx.core.http.HttpServer stripe = Sync.await(vertx.createHttpServer()
        .requestHandler(req -> req.response().setStatusCode(401)
            .putHeader("content-type", "application/json")
            .end(new JsonObject().put("error", new JsonObject().put("type",
                "invalid_request_error").put("message", "Invalid API Key provided: "
                + stripeKey)).encode()))
        .listen(0, "127.0.0.1"));
    List<String> secrets = new ArrayList<>(List.of(stripeKey, webhookSecret, tokenSecret,
        providerKey, Gateway.ADMIN_TOKEN));
    try (Gateway gateway = Gateway.builder(vertx)
        .env("PROVIDER_KEY", providerKey)
        .provider("a", "openai", a.baseUrl(), "${PROVIDER_KEY}", new JsonObject())
        .model("m", "a")
        .stripe("secretKey", stripeKey)
        .stripe("webhookSecret", webhookSecret)
        .stripe("apiBase", "http://127.0.0.1:" + stripe.actualPort())
        .stripe("successUrl", "https://example.com/paid")
        .stripe("cancelUrl", "https://example.com/cancelled")
        .auth("tokenSecret", tokenSecret)
        .start()) {
      secrets.add(gateway.key());
      a.then(json(200, echoCompletion()));
      assertThat(gateway.post("/v1/chat/completions", Chunks.request(false, "")).statusCode())
          .isEqualTo(200);
      a.then(json(401, openAiError("Incorrect API key provided: " + providerKey,
          "invalid_request_error", "invalid_api_key")));
      assertThat(gateway.post("/v1/chat/completions", Chunks.request(false, "")).statusCode())
          .isEqualTo(502);
      String wrongKey = "sk-flx-" + "wrongcanary9f8e7d6c5b4a39281706";
      secrets.add(wrongKey);
      assertThat(call(gateway, "POST", "/v1/chat/completions", wrongKey,
          Chunks.request(false, "")).statusCode()).isEqualTo(401);
      String wrongAdmin = "admin-wrong-canary-3c5e7a9b1d2f4e6a";
      secrets.add(wrongAdmin);
      assertThat(call(gateway, "GET", "/admin/v1/endpoints", wrongAdmin, null).statusCode())
          .isEqualTo(401);

      String managementKey = gateway.adminPost("/admin/v1/accounts/" + gateway.accountId()
          + "/management-keys", new JsonObject()).getString("key");
      secrets.add(managementKey);
      HttpResponse<String> issued = call(gateway, "POST", "/v1/auth/token", managementKey, null);
      String token = new JsonObject(issued.body()).getString("token");
      secrets.add(token);
      secrets.add(token.substring(token.lastIndexOf('.') + 1));
      assertThat(call(gateway, "GET", "/v1/account", token, null).statusCode()).isEqualTo(200);
      JsonObject created = new JsonObject(call(gateway, "POST", "/v1/keys", token,
          new JsonObject().put("name", "second").encode()).body());
      secrets.add(created.getString("key"));
      assertThat(call(gateway, "POST", "/v1/billing/checkout", token,
          new JsonObject().put("amount", 10_000_000).encode()).statusCode()).isEqualTo(502);
      String unsigned = token.substring(0, token.lastIndexOf('.') + 1);
      assertThat(call(gateway, "GET", "/v1/account", unsigned, null).statusCode())
          .isEqualTo(401);
      String forged = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."
          + java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
              "{\"sub\":\"forgedcanary7d1e\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8))
          + ".";
      secrets.add(forged);
      assertThat(call(gateway, "GET", "/v1/account", forged, null).statusCode())
          .isEqualTo(401);
      String payload = "{\"id\":\"evt_1\",\"type\":\"checkout.session.completed\"}";
      assertThat(gateway.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
              gateway.url("/webhooks/stripe")))
          .header("Stripe-Signature", io.flopex.testing.StripeEvents.sign(payload,
              "whsec_wrong", System.currentTimeMillis() / 1000))
          .POST(java.net.http.HttpRequest.BodyPublishers.ofString(payload)).build())
          .statusCode()).isEqualTo(400);
    } finally {
      Sync.await(stripe.close());
    }

    String logged = logs.text();
    assertThat(logged).contains("io.flopex.request");
    for (String secret : secrets) {
      for (int i = 0; i + 8 <= secret.length(); i += 4) {
        String piece = secret.substring(i, i + 8);
        if (!piece.startsWith("sk-flx-") && !piece.startsWith("mk-flx-")
            && !piece.startsWith("eyJ")) {
          assertThat(logged).as("a piece of " + secret.substring(0, 6) + "...")
              .doesNotContain(piece);
        }
      }
    }
  }

  private static HttpResponse<String> call(Gateway gateway, String method, String path,
      String bearer, String body) {
    return gateway.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
            gateway.url(path)))
        .header("authorization", "Bearer " + bearer)
        .header("content-type", "application/json")
        .method(method, body == null ? java.net.http.HttpRequest.BodyPublishers.noBody()
            : java.net.http.HttpRequest.BodyPublishers.ofString(body)).build());
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
