package io.flopex.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.RawHttp;
import io.flopex.testing.Sync;
import io.flopex.testing.TestPostgres;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Prepaid wallets on two nodes sharing one database: the worst case is reserved before a request
 * is sent, so no amount of concurrency on any number of nodes spends more than the balance.
 *
 * <p>Prices here make the arithmetic plain: prompts are free and every output token costs 1000
 * micro-USD, so a request with {@code max_tokens: 2} reserves 2000.
 */
class WalletTest {

  private static final JsonObject PRICES =
      new JsonObject().put("prompt", 0).put("completion", 1000);

  private final List<Vertx> vertxes = new ArrayList<>();
  private final List<Gateway> nodes = new ArrayList<>();
  private Vertx upstreams;
  private FakeUpstream upstream;
  private FakeUpstream failing;
  private final AtomicInteger completionTokens = new AtomicInteger(2);
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() {
    upstreams = Vertx.vertx();
    upstream = FakeUpstream.start(upstreams);
    // Answers after a while, so that requests overlap, with as many output tokens as set.
    upstream.always((req, resp, vertx) -> vertx.setTimer(200, id -> resp.setStatusCode(200)
        .putHeader("content-type", "application/json")
        .end(answer(completionTokens.get()))));
    failing = FakeUpstream.start(upstreams);
    failing.always(FakeUpstream.json(500, FakeUpstream.openAiError("boom", "server_error",
        null)));
    String database = TestPostgres.newDatabaseUrl();
    for (int i = 0; i < 2; i++) {
      Vertx vertx = Vertx.vertx();
      vertxes.add(vertx);
      nodes.add(Gateway.builder(vertx)
          .provider("p", upstream.baseUrl())
          .provider("bad", failing.baseUrl())
          .model("m", PRICES, "p")
          // A cheap model that always fails, so that requests fall back to the dear one.
          .model("cheap", new JsonObject().put("prompt", 0).put("completion", 1), "bad")
          .database(database)
          .billing()
          .start());
    }
  }

  @AfterEach
  void stop() {
    nodes.forEach(Gateway::close);
    vertxes.forEach(v -> Sync.await(v.close()));
    upstream.close();
    failing.close();
    Sync.await(upstreams.close());
  }

  private static String answer(int tokens) {
    return new JsonObject().put("id", "chatcmpl-1").put("object", "chat.completion")
        .put("created", 1).put("model", "up-p")
        .put("choices", new io.vertx.core.json.JsonArray().add(new JsonObject().put("index", 0)
            .put("message", new JsonObject().put("role", "assistant").put("content", "ok"))
            .put("finish_reason", "stop")))
        .put("usage", new JsonObject().put("prompt_tokens", 10)
            .put("completion_tokens", tokens).put("total_tokens", 10 + tokens))
        .encode();
  }

  private Gateway node(int i) {
    return nodes.get(i);
  }

  /** The account both nodes serve: the first node's test account, with its key. */
  private String account() {
    return node(0).accountId();
  }

  private void credit(Gateway via, long micros) {
    via.adminPost("/admin/v1/accounts/" + account() + "/credits",
        new JsonObject().put("amount_micros", micros).put("reason", "test top-up"));
  }

  private JsonObject wallet() {
    return node(0).adminGet("/admin/v1/accounts/" + account());
  }

  private long ledgerSum() {
    return node(0).sql("SELECT coalesce(sum(amount_micros), 0) FROM ledger WHERE account_id = '"
        + account() + "'").get(0).getLong(0);
  }

  private CompletableFuture<HttpResponse<String>> ask(Gateway via, int maxTokens) {
    return http.sendAsync(HttpRequest.newBuilder(URI.create(via.url("/v1/chat/completions")))
        .header("authorization", "Bearer " + node(0).key())
        .header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"m\",\"max_tokens\":" + maxTokens
            + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Sends {@code count} requests at once, alternating between the nodes. */
  private List<HttpResponse<String>> burst(int count) {
    List<CompletableFuture<HttpResponse<String>>> pending = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      pending.add(ask(node(i % 2), 2));
    }
    return pending.stream().map(CompletableFuture::join).toList();
  }

  private void awaitSettled() {
    await().atMost(Duration.ofSeconds(10))
        .until(() -> wallet().getLong("reserved_micros") == 0);
  }

  @Test
  void b22_concurrentRequestsOnTwoNodesNeverSpendMoreThanTheBalance() {
    credit(node(0), 10_000);

    List<HttpResponse<String>> responses = burst(20);

    long admitted = responses.stream().filter(r -> r.statusCode() == 200).count();
    assertThat(admitted).isEqualTo(5);
    for (HttpResponse<String> refused : responses) {
      if (refused.statusCode() != 200) {
        assertThat(refused.statusCode()).isEqualTo(402);
        JsonObject error = new JsonObject(refused.body()).getJsonObject("error");
        assertThat(error.getString("code")).isEqualTo("insufficient_credits");
        assertThat(error.getString("type")).isEqualTo("insufficient_quota");
      }
    }
    assertThat(upstream.calls()).isEqualTo(5);
    awaitSettled();
    assertThat(wallet().getLong("balance_micros")).isZero();
    assertThat(ledgerSum()).isEqualTo(wallet().getLong("balance_micros"));
  }

  @Test
  void aHundredConcurrentRequestsAgainstABalanceForTenAdmitTen() {
    credit(node(1), 20_000);

    List<HttpResponse<String>> responses = burst(100);

    assertThat(responses.stream().filter(r -> r.statusCode() == 200).count()).isEqualTo(10);
    assertThat(responses.stream().filter(r -> r.statusCode() == 402).count()).isEqualTo(90);
    assertThat(upstream.calls()).isEqualTo(10);
    awaitSettled();
    assertThat(wallet().getLong("balance_micros")).isZero();
    assertThat(ledgerSum()).isZero();
  }

  @Test
  void b23_aCostAboveTheReservationIsRecordedAsDebtAndTheNextRequestIsRefused() {
    credit(node(0), 1_000);
    completionTokens.set(4);

    assertThat(ask(node(0), 1).join().statusCode()).isEqualTo(200);
    awaitSettled();
    assertThat(wallet().getLong("balance_micros")).isEqualTo(-3_000);
    assertThat(ledgerSum()).isEqualTo(-3_000);

    HttpResponse<String> refused = ask(node(0), 1).join();
    assertThat(refused.statusCode()).isEqualTo(402);
    assertThat(upstream.calls()).isEqualTo(1);

    credit(node(0), 10_000_000);
    HttpResponse<String> afterTopUp = ask(node(1), 1).join();
    assertThat(afterTopUp.statusCode()).isEqualTo(200);
    awaitSettled();
    assertThat(wallet().getLong("balance_micros")).isEqualTo(10_000_000 - 3_000 - 4_000);
    assertThat(ledgerSum()).isEqualTo(wallet().getLong("balance_micros"));
  }

  @Test
  void aRequestThatFailsUpstreamIsNotChargedAndItsReservationIsReleased() {
    credit(node(0), 5_000);
    upstream.always(FakeUpstream.json(500, FakeUpstream.openAiError("boom", "server_error",
        null)));

    assertThat(ask(node(0), 2).join().statusCode()).isEqualTo(502);

    awaitSettled();
    assertThat(wallet().getLong("balance_micros")).isEqualTo(5_000);
    assertThat(ledgerSum()).isEqualTo(5_000);
  }

  @Test
  void aClientThatLeavesBeforeAnyOutputIsNotChargedAndItsReservationIsReleased()
      throws Exception {
    credit(node(0), 5_000);
    upstream.always(FakeUpstream.stall());
    String body = "{\"model\":\"m\",\"max_tokens\":2,\"stream\":true,"
        + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    try (RawHttp client = RawHttp.connect(node(0).port())) {
      client.write(RawHttp.head("POST", "/v1/chat/completions",
          "authorization", "Bearer " + node(0).key(), "content-type", "application/json",
          "content-length", Integer.toString(body.length())) + body);
      await().atMost(Duration.ofSeconds(10)).until(() -> upstream.calls() == 1);
      assertThat(wallet().getLong("reserved_micros")).isEqualTo(2_000);
    }

    awaitSettled();
    assertThat(wallet().getLong("balance_micros")).isEqualTo(5_000);
  }

  @Test
  void theAnthropicApiIsRefusedInItsOwnWords() {
    HttpResponse<String> refused = http.sendAsync(HttpRequest.newBuilder(
                URI.create(node(0).url("/v1/messages")))
            .header("x-api-key", node(0).key())
            .header("anthropic-version", "2023-06-01")
            .header("content-type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"m\",\"max_tokens\":2,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")).build(),
        HttpResponse.BodyHandlers.ofString()).join();

    assertThat(refused.statusCode()).isEqualTo(402);
    assertThat(new JsonObject(refused.body()).getJsonObject("error").getString("type"))
        .isEqualTo("billing_error");
    assertThat(upstream.calls()).isZero();
  }

  @Test
  void fallingBackToADearerModelCannotSpendMoreThanTheBalance() {
    credit(node(0), 10_000);
    List<CompletableFuture<HttpResponse<String>>> pending = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      pending.add(http.sendAsync(HttpRequest.newBuilder(URI.create(node(i % 2)
              .url("/v1/chat/completions")))
          .header("authorization", "Bearer " + node(0).key())
          .header("content-type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"cheap\",\"models\":[\"m\"],"
              + "\"max_tokens\":2,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
          .build(), HttpResponse.BodyHandlers.ofString()));
    }
    List<HttpResponse<String>> responses = pending.stream().map(CompletableFuture::join).toList();

    // The worst case is priced on the dear fallback, so the balance covers five.
    assertThat(responses.stream().filter(r -> r.statusCode() == 200).count()).isEqualTo(5);
    awaitSettled();
    assertThat(wallet().getLong("balance_micros")).isZero();
    assertThat(ledgerSum()).isZero();
  }

  @Test
  void aRequestWhoseReservationWasReleasedEarlyIsStillChargedOnce() {
    credit(node(0), 5_000);
    io.vertx.core.Promise<Void> gate = io.vertx.core.Promise.promise();
    upstream.always((req, resp, vertx) -> gate.future().onComplete(v -> resp.setStatusCode(200)
        .putHeader("content-type", "application/json").end(answer(2))));
    CompletableFuture<HttpResponse<String>> pending = ask(node(0), 2);
    await().atMost(Duration.ofSeconds(10)).until(() -> upstream.calls() == 1);
    assertThat(wallet().getLong("reserved_micros")).isEqualTo(2_000);

    // As if the request had outlived the reservation timeout: the sweep releases it.
    assertThat(Sync.await(new io.flopex.db.Wallet(node(1).flopex().pool()).sweep(0)))
        .isEqualTo(1);
    assertThat(wallet().getLong("reserved_micros")).isZero();
    gate.complete();

    assertThat(pending.join().statusCode()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(10)).until(() -> ledgerSum() == 3_000);
    assertThat(wallet().getLong("balance_micros")).isEqualTo(3_000);
    assertThat(wallet().getLong("reserved_micros")).isZero();
  }
}
