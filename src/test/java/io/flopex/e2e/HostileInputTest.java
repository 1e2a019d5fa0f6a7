package io.flopex.e2e;

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
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Inputs from clients and upstreams that are legal on the wire but meant to hurt. */
class HostileInputTest {

  private static final String KEY = "sk-upstream-secret-0123456789abcdef";

  private static Vertx vertx;
  private static FakeUpstream a;
  private static FakeUpstream b;
  private static Gateway gateway;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    a = FakeUpstream.start(vertx);
    b = FakeUpstream.start(vertx);
    JsonObject timeouts = new JsonObject().put("connectMs", 1000).put("firstByteMs", 800)
        .put("idleMs", 3000).put("responseMs", 5000);
    gateway = Gateway.builder(vertx)
        .provider("a", "openai-compatible", a.baseUrl(), KEY, timeouts)
        .provider("b", "openai-compatible", b.baseUrl(), "sk-b", timeouts)
        .model("m", "a", "b")
        .model("only-a", "a")
        .start();
  }

  @AfterAll
  static void stop() {
    gateway.close();
    a.close();
    b.close();
    Sync.await(vertx.close());
  }

  private static String okBody() {
    return fixture("openai/openai-text.json");
  }

  @Test
  void controlCharactersInTheModelAreRefusedAndMeteringGoesOn() {
    HttpResponse<String> evil = gateway.post("/v1/chat/completions",
        "{\"model\":\"evil\\u0000model\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
    assertThat(evil.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(evil.body()).getJsonObject("error").getString("param"))
        .isEqualTo("model");

    HttpResponse<String> long1 = gateway.post("/v1/chat/completions",
        Chunks.request(false, "").replace("\"m\"", "\"" + "m".repeat(5000) + "\""));
    assertThat(long1.statusCode()).isEqualTo(400);

    a.then(json(200, okBody()));
    String requestId = UUID.randomUUID().toString();
    assertThat(gateway.post("/v1/chat/completions", Chunks.request(false, ""), requestId)
        .statusCode()).isEqualTo(200);
    assertThat(gateway.awaitUsageRow(requestId).getString("outcome")).isEqualTo("success");
  }

  @Test
  void absurdUsageCountsAreMeteredWithoutOverflow() {
    JsonObject answer = new JsonObject(okBody());
    answer.getJsonObject("usage").put("prompt_tokens", 100_000_000_000_000L);
    a.then(json(200, answer.encode()));
    String requestId = UUID.randomUUID().toString();

    HttpResponse<String> response = gateway.post("/v1/chat/completions",
        Chunks.request(false, ""), requestId);

    assertThat(response.statusCode()).isEqualTo(200);
    // 1e14 tokens at 1.5 USD per million, plus 363 completion tokens at 2.0
    assertThat(gateway.awaitUsageRow(requestId).getLong("cost_micros"))
        .isEqualTo(150_000_000_000_000L + 726);
  }

  @Test
  void upstreamErrorsAreScrubbedOfTheProviderKeyAndAddress() {
    a.then(json(400, new JsonObject().put("error", new JsonObject()
        .put("message", "Bad request for key Bearer " + KEY + " (" + KEY.substring(0, 12)
            + "...) at " + a.baseUrl())
        .put("type", "invalid_request_error")
        .put("code", new JsonObject().put("nested", 1))).encode()));

    HttpResponse<String> response = gateway.post("/v1/chat/completions",
        Chunks.request(false, ""));

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.body()).doesNotContain(KEY.substring(0, 8))
        .doesNotContain(KEY.substring(KEY.length() - 8)).doesNotContain("127.0.0.1");
    JsonObject error = new JsonObject(response.body()).getJsonObject("error");
    assertThat(error.getString("message")).contains("[redacted]").contains("[provider]");
    assertThat(error.getValue("code")).isInstanceOf(String.class);
  }

  @Test
  void aStreamOfEmptyChunksIsNotAnAnswer() {
    a.then((req, resp, v) -> {
      resp.setStatusCode(200).setChunked(true).putHeader("content-type", "text/event-stream");
      v.setPeriodic(20, id -> {
        if (resp.closed()) {
          v.cancelTimer(id);
        } else {
          resp.write("data: " + Chunks.role() + "\n\n");
        }
      });
    });
    b.then(sse(List.of(Chunks.content("from b"), Chunks.finish("stop"))));

    try (SseClient client = SseClient.open(gateway, Chunks.request(true, ""))) {
      assertThat(client.status()).isEqualTo(200);
      assertThat(client.header("x-flopex-provider")).isEqualTo("b");
      assertThat(String.join("", client.rest())).contains("from b");
    }
  }

  @Test
  void aStreamEndsAtDoneEvenIfTheProviderKeepsTheResponseOpen() {
    a.then((req, resp, v) -> {
      resp.setStatusCode(200).setChunked(true).putHeader("content-type", "text/event-stream");
      resp.write("data: " + Chunks.content("all") + "\n\ndata: " + Chunks.finish("stop")
          + "\n\ndata: [DONE]\n\n");
    });
    String requestId = UUID.randomUUID().toString();

    try (SseClient client = SseClient.open(gateway, Chunks.request(true, "")
        .replace("\"m\"", "\"only-a\""), requestId)) {
      assertThat(client.rest()).last().isEqualTo("[DONE]");
    }
    assertThat(gateway.awaitUsageRow(requestId).getString("outcome")).isEqualTo("success");
  }

  @Test
  void aLongBodyLabelledAsAFormIsStillReadAsJson() {
    a.then(json(200, okBody()));
    String body = Chunks.request(false, "").replace("hello", "x".repeat(5000));
    HttpResponse<String> form = gateway.send(HttpRequest.newBuilder(
            URI.create(gateway.url("/v1/chat/completions")))
        .header("authorization", "Bearer " + gateway.key())
        .header("content-type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build());
    assertThat(form.statusCode()).as(form.body()).isEqualTo(200);

    HttpResponse<String> multipart = gateway.send(HttpRequest.newBuilder(
            URI.create(gateway.url("/v1/chat/completions")))
        .header("authorization", "Bearer " + gateway.key())
        .header("content-type", "multipart/form-data; boundary=x")
        .POST(HttpRequest.BodyPublishers.ofString("--x--")).build());
    assertThat(multipart.statusCode()).isEqualTo(415);
  }

  @Test
  void thousandsOfUnknownFieldsGiveASmallWarningHeader() {
    a.then(json(200, okBody()));
    StringBuilder extra = new StringBuilder();
    for (int i = 0; i < 5000; i++) {
      extra.append(i == 0 ? "" : ",").append("\"f").append(i).append("\":1");
    }

    HttpResponse<String> response = gateway.post("/v1/chat/completions",
        Chunks.request(false, extra.toString()));

    assertThat(response.statusCode()).isEqualTo(200);
    String warnings = response.headers().firstValue("x-flopex-warnings").orElseThrow();
    assertThat(warnings.length()).isLessThan(1_000);
    assertThat(warnings).contains("4990 more");
    assertThat(a.lastRequest().body().containsKey("f1")).isFalse();
  }

  @Test
  void adminInputIsCheckedToo() {
    HttpResponse<String> email = gateway.send(HttpRequest.newBuilder(
            URI.create(gateway.url("/admin/v1/accounts")))
        .header("authorization", "Bearer " + Gateway.ADMIN_TOKEN)
        .POST(HttpRequest.BodyPublishers.ofString("{\"email\":\"a\\u0000b@c.d\"}")).build());
    assertThat(email.statusCode()).isEqualTo(400);

    HttpResponse<String> keys = gateway.send(HttpRequest.newBuilder(URI.create(gateway.url(
            "/admin/v1/accounts/" + UUID.randomUUID() + "/keys")))
        .header("authorization", "Bearer " + Gateway.ADMIN_TOKEN).GET().build());
    assertThat(keys.statusCode()).isEqualTo(404);
  }
}
