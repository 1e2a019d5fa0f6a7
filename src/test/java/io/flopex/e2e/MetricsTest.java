package io.flopex.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flopex.cluster.Clustering;
import io.flopex.config.FlopexConfig;
import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.Scrape;
import io.flopex.testing.Sync;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /metrics}: Vert.x's HTTP metrics and Flopex's own, moved by real requests, with
 * labels drawn only from the configuration.
 *
 * <p>Model {@code m} is served by {@code bad}, which always answers 500, then by {@code good}, so
 * each of its requests fails over once; model {@code direct} is served by {@code good} alone.
 * {@code good} reports 100 prompt and 200 completion tokens.
 */
class MetricsTest {

  private final List<Vertx> vertxes = new ArrayList<>();
  private final List<Gateway> nodes = new ArrayList<>();
  private Vertx upstreams;
  private FakeUpstream good;
  private FakeUpstream bad;

  @BeforeEach
  void start() {
    upstreams = Vertx.vertx();
    good = FakeUpstream.start(upstreams);
    good.always((req, resp, vertx) -> {
      if (good.bodyOf(req).getBoolean("stream", false)) {
        resp.setStatusCode(200).putHeader("content-type", "text/event-stream")
            .end("data: " + chunk(new JsonObject().put("role", "assistant").put("content", "ok"),
                null) + "\n\n"
                + "data: " + chunk(new JsonObject(), "stop") + "\n\n"
                + "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,"
                + "\"model\":\"up-good\",\"choices\":[],\"usage\":{\"prompt_tokens\":100,"
                + "\"completion_tokens\":200,\"total_tokens\":300}}\n\n"
                + "data: [DONE]\n\n");
      } else {
        resp.setStatusCode(200).putHeader("content-type", "application/json")
            .end(new JsonObject().put("id", "c").put("object", "chat.completion")
                .put("created", 1).put("model", "up-good")
                .put("choices", new JsonArray().add(new JsonObject().put("index", 0)
                    .put("message", new JsonObject().put("role", "assistant")
                        .put("content", "ok")).put("finish_reason", "stop")))
                .put("usage", new JsonObject().put("prompt_tokens", 100)
                    .put("completion_tokens", 200).put("total_tokens", 300)).encode());
      }
    });
    bad = FakeUpstream.start(upstreams);
    bad.always(FakeUpstream.json(500, FakeUpstream.openAiError("boom", "server_error", null)));
  }

  @AfterEach
  void stop() {
    nodes.forEach(Gateway::close);
    vertxes.forEach(v -> Sync.await(v.close()));
    good.close();
    bad.close();
    Sync.await(upstreams.close());
  }

  private static String chunk(JsonObject delta, String finish) {
    return new JsonObject().put("id", "c").put("object", "chat.completion.chunk")
        .put("created", 1).put("model", "up-good").put("choices", new JsonArray()
            .add(new JsonObject().put("index", 0).put("delta", delta)
                .put("finish_reason", finish))).encode();
  }

  /** Every group of Vert.x's own meters. */
  private static final FlopexConfig.Metrics ALL_VERTX_METERS = new FlopexConfig.Metrics(true,
      false, "127.0.0.1", FlopexConfig.Metrics.MAIN_PORT,
      EnumSet.allOf(FlopexConfig.VertxMeters.class));

  /** A node on a Vert.x instance built as {@code Main} builds it, with every Vert.x meter. */
  private Gateway node(java.util.function.UnaryOperator<Gateway.Builder> setup) {
    return node(ALL_VERTX_METERS, setup);
  }

  /** A node on a Vert.x instance built as {@code Main} builds it with this configuration. */
  private Gateway node(FlopexConfig.Metrics metrics,
      java.util.function.UnaryOperator<Gateway.Builder> setup) {
    Vertx vertx = Sync.await(Clustering.vertx(FlopexConfig.Cluster.OFF, metrics));
    vertxes.add(vertx);
    Gateway node = setup.apply(Gateway.builder(vertx)
            .provider("bad", bad.baseUrl())
            .provider("good", good.baseUrl())
            .model("m", "bad", "good")
            .model("direct", "good"))
        .start();
    nodes.add(node);
    return node;
  }

  private static Scrape scrape(Gateway node) {
    HttpResponse<String> response = node.send(HttpRequest.newBuilder(
        URI.create(node.url("/metrics"))).GET().build());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("content-type")).hasValueSatisfying(
        type -> assertThat(type).startsWith("text/plain"));
    return new Scrape(response.body());
  }

  private static Scrape awaitRequests(Gateway node, double finished) {
    Scrape[] last = new Scrape[1];
    await().atMost(Duration.ofSeconds(10)).until(() -> {
      last[0] = scrape(node);
      return last[0].sum("flopex_requests_total") >= finished;
    });
    return last[0];
  }

  private static String ask(String model, boolean stream, String canary) {
    return "{\"model\":\"" + model + "\",\"stream\":" + stream + ",\"messages\":[{\"role\":"
        + "\"user\",\"content\":\"" + canary + "\"}]}";
  }

  @Test
  void requestsTokensCostLatencyAndFailoversAreCounted() {
    Gateway node = node(b -> b);
    String canary = "CANARY-" + UUID.randomUUID();
    String requestId = "req-" + UUID.randomUUID();
    String madeUp = "made-up-model-" + UUID.randomUUID();

    HttpResponse<String> direct = node.post("/v1/chat/completions",
        ask("direct", false, canary), requestId);
    assertThat(direct.statusCode()).isEqualTo(200);
    long directCost = new JsonObject(direct.body()).getJsonObject("usage").getLong("cost_micros");
    assertThat(directCost).isPositive();
    HttpResponse<String> failover = node.post("/v1/chat/completions", ask("m", true, canary));
    assertThat(failover.statusCode()).isEqualTo(200);
    assertThat(failover.headers().firstValue("x-flopex-attempts")).hasValue("2");
    assertThat(node.post("/v1/chat/completions", ask(madeUp, false, canary)).statusCode())
        .isEqualTo(404);

    Scrape scrape = awaitRequests(node, 3);
    assertThat(scrape.sum("flopex_requests_total", "model", "direct", "provider", "good",
        "outcome", "success")).isEqualTo(1);
    assertThat(scrape.sum("flopex_requests_total", "model", "m", "provider", "good",
        "outcome", "success")).isEqualTo(1);
    // A model name the client made up is not a label.
    assertThat(scrape.sum("flopex_requests_total", "model", "unknown", "provider", "none",
        "outcome", "model_not_found")).isEqualTo(1);
    assertThat(scrape.sum("flopex_requests_total")).isEqualTo(3);

    assertThat(scrape.sum("gen_ai_client_token_usage_sum", "gen_ai_request_model", "direct",
        "gen_ai_provider_name", "good", "gen_ai_token_type", "input")).isEqualTo(100);
    assertThat(scrape.sum("gen_ai_client_token_usage_sum", "gen_ai_request_model", "direct",
        "gen_ai_provider_name", "good", "gen_ai_response_model", "up-good",
        "gen_ai_token_type", "output")).isEqualTo(200);
    assertThat(scrape.sum("gen_ai_client_token_usage_count", "gen_ai_token_type", "output"))
        .isEqualTo(2);
    assertThat(scrape.sum("flopex_cost_micro_usd_total", "model", "direct", "provider", "good"))
        .isEqualTo(directCost);
    assertThat(scrape.sum("flopex_cost_micro_usd_total")).isEqualTo(2 * directCost);

    assertThat(scrape.sum("flopex_failovers_total", "model", "m", "provider", "bad"))
        .isEqualTo(1);
    assertThat(scrape.sum("flopex_failovers_total")).isEqualTo(1);
    assertThat(scrape.sum("gen_ai_client_operation_duration_seconds_count",
        "gen_ai_provider_name", "bad", "gen_ai_response_model", "up-bad", "error_type",
        "http_500")).isEqualTo(1);
    assertThat(scrape.sum("gen_ai_client_operation_duration_seconds_count",
        "gen_ai_provider_name", "good", "error_type", "")).isEqualTo(2);
    assertThat(scrape.sum("gen_ai_server_request_duration_seconds_count")).isEqualTo(3);
    assertThat(scrape.sum("gen_ai_server_request_duration_seconds_bucket",
        "gen_ai_request_model", "direct", "le", "+Inf")).isEqualTo(1);
    // Only the streamed request has a time to first token.
    assertThat(scrape.sum("gen_ai_server_time_to_first_token_seconds_count",
        "gen_ai_request_model", "m", "gen_ai_provider_name", "good")).isEqualTo(1);
    assertThat(scrape.sum("gen_ai_server_time_to_first_token_seconds_count")).isEqualTo(1);

    assertThat(scrape.sum("flopex_endpoint_circuit_state", "provider", "bad",
        "upstream_model", "up-bad", "state", "closed")).isEqualTo(1);
    assertThat(scrape.sum("flopex_endpoint_circuit_state", "provider", "bad",
        "upstream_model", "up-bad", "state", "open")).isEqualTo(0);
    assertThat(scrape.has("flopex_endpoint_cooldown_seconds", "provider", "good",
        "upstream_model", "up-good")).isTrue();

    // Vert.x's own: the ingress server, and the HTTP client of each provider by its id.
    assertThat(scrape.sum("vertx_http_server_requests_total", "method", "POST"))
        .isGreaterThanOrEqualTo(3);
    assertThat(scrape.sum("vertx_http_client_requests_total", "client_name", "good"))
        .isEqualTo(2);
    assertThat(scrape.sum("vertx_http_client_requests_total", "client_name", "bad"))
        .isEqualTo(1);
    assertThat(scrape.has("jvm_memory_used_bytes")).isTrue();
    assertThat(scrape.has("vertx_pool_in_use", "pool_type", "http")).isTrue();
    assertThat(scrape.has("vertx_eventbus_processed_total")).isTrue();

    String text = scrape.text();
    String keyId = node.sql("SELECT id FROM api_keys").get(0).getValue(0).toString();
    assertThat(text).doesNotContain(canary, requestId, madeUp, node.accountId(), keyId,
        node.key(), Gateway.ADMIN_TOKEN);
  }

  @Test
  void endpointGaugesShowAnOpenCircuitAndARest() {
    FakeUpstream full = FakeUpstream.start(upstreams);
    full.always(FakeUpstream.json(429, FakeUpstream.openAiError("slow down", "rate_limit",
        null), "retry-after", "120"));
    try {
      Gateway node = node(b -> b.breaker(1, 60_000)
          .provider("full", full.baseUrl())
          .model("busy", "full", "good"));

      assertThat(node.post("/v1/chat/completions", ask("m", false, "hi")).statusCode())
          .isEqualTo(200);
      assertThat(node.post("/v1/chat/completions", ask("busy", false, "hi")).statusCode())
          .isEqualTo(200);

      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        Scrape scrape = scrape(node);
        assertThat(scrape.sum("flopex_endpoint_circuit_state", "provider", "bad",
            "upstream_model", "up-bad", "state", "open")).isEqualTo(1);
        assertThat(scrape.sum("flopex_endpoint_circuit_state", "provider", "bad",
            "upstream_model", "up-bad", "state", "closed")).isEqualTo(0);
        assertThat(scrape.sum("flopex_endpoint_cooldown_seconds", "provider", "full",
            "upstream_model", "up-full")).isBetween(100.0, 120.0);
        assertThat(scrape.sum("flopex_endpoint_cooldown_seconds", "provider", "good"))
            .isEqualTo(0);
      });
    } finally {
      full.close();
    }
  }

  @Test
  void keyLimitAndWalletRefusalsAreCounted() {
    Gateway node = node(Gateway.Builder::billing);
    node.adminPost("/admin/v1/accounts/" + node.accountId() + "/credits",
        new JsonObject().put("amount_micros", 1_000_000).put("reason", "test top-up"));
    JsonObject limited = node.adminPost("/admin/v1/accounts/" + node.accountId() + "/keys",
        new JsonObject().put("name", "limited").put("rpm", 1));
    String broke = node.adminPost("/admin/v1/accounts", new JsonObject().put("email",
        "broke@example.com")).getString("id");
    JsonObject brokeKey = node.adminPost("/admin/v1/accounts/" + broke + "/keys",
        new JsonObject().put("name", "no credit"));

    assertThat(send(node, limited.getString("key")).statusCode()).isEqualTo(200);
    assertThat(send(node, limited.getString("key")).statusCode()).isEqualTo(429);
    assertThat(send(node, brokeKey.getString("key")).statusCode()).isEqualTo(402);

    Scrape scrape = awaitRequests(node, 3);
    assertThat(scrape.sum("flopex_key_limit_refusals_total", "limit", "requests")).isEqualTo(1);
    assertThat(scrape.sum("flopex_key_limit_refusals_total")).isEqualTo(1);
    assertThat(scrape.sum("flopex_wallet_refusals_total")).isEqualTo(1);
    assertThat(scrape.sum("flopex_requests_total", "model", "direct", "provider", "none",
        "outcome", "rate_limited")).isEqualTo(1);
    assertThat(scrape.sum("flopex_requests_total", "model", "direct", "provider", "none",
        "outcome", "insufficient_credits")).isEqualTo(1);
    assertThat(scrape.text()).doesNotContain(broke, node.accountId(), limited.getString("id"),
        brokeKey.getString("id"));
  }

  private static HttpResponse<String> send(Gateway node, String key) {
    return node.send(HttpRequest.newBuilder(URI.create(node.url("/v1/chat/completions")))
        .header("authorization", "Bearer " + key)
        .header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"direct\",\"max_tokens\":10,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")).build());
  }

  @Test
  void byDefaultVertxRecordsTheIngressServerAndThePoolsButNotWhatFlopexCountsPerAttempt() {
    Gateway node = node(FlopexConfig.Metrics.DEFAULTS, b -> b);

    assertThat(node.post("/v1/chat/completions", ask("direct", false, "hi")).statusCode())
        .isEqualTo(200);

    Scrape scrape = awaitRequests(node, 1);
    assertThat(scrape.sum("vertx_http_server_requests_total", "method", "POST"))
        .isGreaterThanOrEqualTo(1);
    assertThat(scrape.has("vertx_pool_in_use", "pool_type", "sql")).isTrue();
    assertThat(scrape.has("vertx_pool_in_use", "pool_type", "http")).isFalse();
    assertThat(scrape.sum("gen_ai_client_operation_duration_seconds_count",
        "gen_ai_provider_name", "good")).isEqualTo(1);
    assertThat(scrape.text()).doesNotContain("vertx_http_client_", "vertx_eventbus_",
        "vertx_net_client_", "vertx_net_server_");
  }

  @Test
  void eachNodeInOneJvmCountsOnlyItsOwnRequests() {
    Gateway first = node(b -> b);
    Gateway second = node(b -> b);

    assertThat(first.post("/v1/chat/completions", ask("direct", false, "hi")).statusCode())
        .isEqualTo(200);

    assertThat(awaitRequests(first, 1).sum("flopex_requests_total")).isEqualTo(1);
    Scrape other = scrape(second);
    assertThat(other.sum("flopex_requests_total")).isEqualTo(0);
    assertThat(other.sum("vertx_http_client_requests_total")).isEqualTo(0);
  }

  @Test
  void aScrapeMayRequireTheAdminTokenOnAPortOfItsOwn() {
    Gateway node = node(b -> b.metrics("requireAdminToken", true).metrics("port", 0));
    int port = node.flopex().metricsPort();
    assertThat(port).isPositive();
    URI uri = URI.create("http://127.0.0.1:" + port + "/metrics");

    HttpResponse<String> open = node.send(HttpRequest.newBuilder(uri).GET().build());
    HttpResponse<String> wrong = node.send(HttpRequest.newBuilder(uri)
        .header("authorization", "Bearer " + node.key()).GET().build());
    HttpResponse<String> admin = node.send(HttpRequest.newBuilder(uri)
        .header("authorization", "Bearer " + Gateway.ADMIN_TOKEN).GET().build());
    // The main port no longer serves it: the path is just another one needing a key.
    HttpResponse<String> main = node.send(HttpRequest.newBuilder(
        URI.create(node.url("/metrics"))).GET().build());

    assertThat(open.statusCode()).isEqualTo(401);
    assertThat(wrong.statusCode()).isEqualTo(401);
    assertThat(admin.statusCode()).isEqualTo(200);
    assertThat(new Scrape(admin.body()).has("flopex_wallet_refusals_total")).isTrue();
    assertThat(main.statusCode()).isEqualTo(401);
  }

  @Test
  void metricsCanBeTurnedOff() {
    Gateway node = node(b -> b.metrics("enabled", false));
    HttpResponse<String> response = node.send(HttpRequest.newBuilder(
        URI.create(node.url("/metrics"))).GET().build());
    assertThat(response.statusCode()).isEqualTo(401);
  }
}
