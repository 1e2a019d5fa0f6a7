package io.flopex.e2e;

import static io.flopex.testing.FakeUpstream.fixture;
import static io.flopex.testing.FakeUpstream.headersThenStall;
import static io.flopex.testing.FakeUpstream.json;
import static io.flopex.testing.FakeUpstream.openAiError;
import static io.flopex.testing.FakeUpstream.sse;
import static org.assertj.core.api.Assertions.assertThat;

import io.flopex.testing.Chunks;
import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.SseClient;
import io.flopex.testing.Sync;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Which failures move a request to the next endpoint, how often, and within which time. */
class FailoverCasesTest {

  private Vertx vertx;
  private final List<FakeUpstream> fakes = new ArrayList<>();
  private Gateway gateway;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
    fakes.forEach(FakeUpstream::close);
    Sync.await(vertx.close());
  }

  private FakeUpstream fake() {
    FakeUpstream fake = FakeUpstream.start(vertx);
    fakes.add(fake);
    return fake;
  }

  private static String ok() {
    return fixture("openai/openai-text.json");
  }

  @Test
  void b17_providerTroubleFallsBackAndClientMistakesDoNot() {
    FakeUpstream t1 = fake();
    FakeUpstream t2 = fake().always(json(200, ok()));
    gateway = Gateway.builder(vertx)
        .provider("t1", t1.baseUrl())
        .provider("t2", t2.baseUrl())
        .provider("dead", "openai-compatible",
            "http://127.0.0.1:" + FakeUpstream.refusedPort() + "/v1", "sk-dead",
            new JsonObject().put("connectMs", 1000))
        .model("m", "t1", "t2")
        .model("refused-first", "dead", "t2")
        .start();

    t1.then(json(401, openAiError("Incorrect API key provided: sk-up****", "invalid_request_error",
        "invalid_api_key")));
    assertServedByT2AfterOneFallback("m");
    assertThat(t1.calls()).isEqualTo(1);

    t1.then(json(503, openAiError("The server is overloaded", "server_error", null)));
    assertServedByT2AfterOneFallback("m");

    assertServedByT2AfterOneFallback("refused-first");

    int t2Calls = t2.calls();
    t1.then(json(400, openAiError("Invalid value for 'temperature'", "invalid_request_error",
        "invalid_value")));
    HttpResponse<String> response = gateway.post("/v1/chat/completions",
        Chunks.request(false, ""));
    assertThat(response.statusCode()).isEqualTo(400);
    JsonObject error = new JsonObject(response.body()).getJsonObject("error");
    assertThat(error.getString("message")).isEqualTo("Invalid value for 'temperature'");
    assertThat(error.getString("code")).isEqualTo("invalid_value");
    assertThat(response.headers().firstValue("x-flopex-attempts")).hasValue("1");
    assertThat(t2.calls()).isEqualTo(t2Calls);

    // Last, because a 429 also sends t1 to rest (see CooldownTest).
    t1.then(json(429, openAiError("Rate limit reached", "requests", "rate_limit_exceeded")));
    assertServedByT2AfterOneFallback("m");
  }

  private void assertServedByT2AfterOneFallback(String model) {
    String requestId = UUID.randomUUID().toString();
    HttpResponse<String> response = gateway.post("/v1/chat/completions",
        Chunks.request(false, "").replace("\"m\"", "\"" + model + "\""), requestId);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(response.headers().firstValue("x-flopex-provider")).hasValue("t2");
    assertThat(response.headers().firstValue("x-flopex-attempts")).hasValue("2");
    assertThat(response.headers().firstValue("x-flopex-tried").orElseThrow())
        .matches("(t1|dead)=[a-z_0-9]+, t2=success");
    Row row = gateway.awaitUsageRow(requestId);
    assertThat(row.getJsonArray("attempts").size()).isEqualTo(2);
    assertThat(row.getString("provider")).isEqualTo("t2");
  }

  @Test
  void b19_attemptsAreBoundedAndNoEndpointIsTriedTwice() {
    FakeUpstream a = fake().always(json(500, openAiError("boom", "server_error", null)));
    FakeUpstream b = fake().always(json(500, openAiError("boom", "server_error", null)));
    FakeUpstream c = fake().always(json(200, ok()));
    gateway = Gateway.builder(vertx)
        .provider("a", a.baseUrl())
        .provider("b", b.baseUrl())
        .provider("c", c.baseUrl())
        .model("m", "a", "b", "c")
        .model("all-fail", "a", "b")
        .routing(3)
        .start();

    HttpResponse<String> served = gateway.post("/v1/chat/completions", Chunks.request(false, ""));
    assertThat(served.statusCode()).isEqualTo(200);
    assertThat(served.headers().firstValue("x-flopex-provider")).hasValue("c");
    assertThat(served.headers().firstValue("x-flopex-attempts")).hasValue("3");
    assertThat(List.of(a.calls(), b.calls(), c.calls())).containsExactly(1, 1, 1);

    HttpResponse<String> failed = gateway.post("/v1/chat/completions",
        Chunks.request(false, "").replace("\"m\"", "\"all-fail\""));
    assertThat(failed.statusCode()).isEqualTo(502);
    assertThat(failed.headers().firstValue("x-flopex-attempts")).hasValue("2");
    assertThat(List.of(a.calls(), b.calls())).containsExactly(2, 2);
    JsonObject error = new JsonObject(failed.body()).getJsonObject("error");
    assertThat(error.getString("message")).contains("HTTP 500").doesNotContain("127.0.0.1");
  }

  @Test
  void b19_attemptBudgetCapsLongChains() {
    FakeUpstream a = fake().always(json(503, "{}"));
    FakeUpstream b = fake().always(json(503, "{}"));
    FakeUpstream c = fake().always(json(503, "{}"));
    FakeUpstream d = fake().always(json(200, ok()));
    gateway = Gateway.builder(vertx)
        .provider("a", a.baseUrl()).provider("b", b.baseUrl())
        .provider("c", c.baseUrl()).provider("d", d.baseUrl())
        .model("m", "a", "b", "c", "d")
        .routing(2)
        .start();

    HttpResponse<String> response = gateway.post("/v1/chat/completions",
        Chunks.request(false, ""));

    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(response.headers().firstValue("x-flopex-attempts")).hasValue("2");
    assertThat(List.of(a.calls(), b.calls(), c.calls(), d.calls())).containsExactly(1, 1, 0, 0);
  }

  @Test
  void b19_unprocessableRequestGetsExactlyOneAttempt() {
    FakeUpstream a = fake().always(json(422, openAiError("bad schema", "invalid_request_error",
        null)));
    FakeUpstream b = fake().always(json(200, ok()));
    gateway = Gateway.builder(vertx)
        .provider("a", a.baseUrl()).provider("b", b.baseUrl())
        .model("m", "a", "b")
        .start();

    HttpResponse<String> response = gateway.post("/v1/chat/completions",
        Chunks.request(false, ""));

    assertThat(response.statusCode()).isEqualTo(422);
    assertThat(new JsonObject(response.body()).getJsonObject("error").getString("message"))
        .isEqualTo("bad schema");
    assertThat(List.of(a.calls(), b.calls())).containsExactly(1, 0);
  }

  private Gateway.Builder withTimeouts(FakeUpstream a, FakeUpstream b, long firstByte, long idle) {
    JsonObject timeouts = new JsonObject().put("connectMs", 1000).put("firstByteMs", firstByte)
        .put("idleMs", idle).put("responseMs", 10_000);
    return Gateway.builder(vertx)
        .provider("a", "openai-compatible", a.baseUrl(), "sk-a", timeouts)
        .provider("b", "openai-compatible", b.baseUrl(), "sk-b", timeouts)
        .model("m", "a", "b")
        .model("only-a", "a");
  }

  @Test
  void b20a_noFirstByteAbortsAtTheFirstByteTimeoutAndFailsOver() {
    FakeUpstream a = fake().always(headersThenStall());
    FakeUpstream b = fake().always(sse(List.of(Chunks.content("from b"), Chunks.finish("stop"))));
    gateway = withTimeouts(a, b, 500, 800).start();

    long started = System.nanoTime();
    try (SseClient client = SseClient.open(gateway, Chunks.request(true, ""))) {
      assertThat(client.status()).isEqualTo(200);
      assertThat(client.header("x-flopex-provider")).isEqualTo("b");
      assertThat(client.rest()).last().isEqualTo("[DONE]");
    }
    long elapsedMs = (System.nanoTime() - started) / 1_000_000;
    assertThat(elapsedMs).isBetween(450L, 5_000L);

    try (SseClient client = SseClient.open(gateway,
        Chunks.request(true, "").replace("\"m\"", "\"only-a\""))) {
      assertThat(client.status()).isEqualTo(504);
      assertThat(new JsonObject(client.body()).getJsonObject("error").getString("code"))
          .isEqualTo("upstream_timeout");
    }
  }

  @Test
  void b20b_stallAfterContentEndsWithInBandErrorAndClosesUpstream() {
    FakeUpstream a = fake();
    FakeUpstream b = fake();
    List<String> five = List.of(Chunks.content("1"), Chunks.content("2"), Chunks.content("3"),
        Chunks.content("4"), Chunks.content("5"));
    a.always((req, resp, v) -> {
      resp.setStatusCode(200).setChunked(true).putHeader("content-type", "text/event-stream");
      five.forEach(c -> resp.write("data: " + c + "\n\n"));
    });
    gateway = withTimeouts(a, b, 500, 800).start();
    String requestId = UUID.randomUUID().toString();

    List<String> events;
    try (SseClient client = SseClient.open(gateway, Chunks.request(true, ""), requestId)) {
      events = client.rest();
    }

    assertThat(events).hasSize(6).doesNotContain("[DONE]");
    assertThat(new JsonObject(events.get(5)).getJsonObject("error").getString("code"))
        .isEqualTo("stream_interrupted");
    assertThat(b.calls()).isZero();
    Row row = gateway.awaitUsageRow(requestId);
    assertThat(row.getString("outcome")).isEqualTo("stream_interrupted");
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(2))
        .until(() -> !a.closedAtNanos().isEmpty());
  }

  @Test
  void b20c_slowButSteadyStreamIsNeverCut() {
    FakeUpstream a = fake();
    FakeUpstream b = fake();
    List<String> chunks = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      chunks.add(Chunks.content("c" + i));
    }
    chunks.add(Chunks.finish("stop"));
    a.always(sse(chunks, 250, true));
    gateway = withTimeouts(a, b, 500, 600).start();

    List<String> events;
    try (SseClient client = SseClient.open(gateway, Chunks.request(true, ""))) {
      events = client.rest();
    }

    assertThat(events).hasSize(14).last().isEqualTo("[DONE]");
    assertThat(b.calls()).isZero();
  }
}
