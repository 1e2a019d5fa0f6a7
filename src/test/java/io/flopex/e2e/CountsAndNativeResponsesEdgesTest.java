package io.flopex.e2e;

import static io.flopex.testing.FakeUpstream.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.Sync;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Edges where counts, money and the native Responses path meet: erasure racing a settlement,
 * retention of per-day counts, native streams cut short, fields dropped on every path, and an
 * answer without usage.
 */
class CountsAndNativeResponsesEdgesTest {

  private Vertx vertx;
  private FakeUpstream upstream;
  private Gateway gateway;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    upstream = FakeUpstream.start(vertx);
  }

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
    upstream.close();
    Sync.await(vertx.close());
  }

  private static final String CHAT_OK = new JsonObject().put("id", "c")
      .put("object", "chat.completion").put("created", 1).put("model", "up-p")
      .put("choices", new JsonArray().add(new JsonObject().put("index", 0)
          .put("message", new JsonObject().put("role", "assistant").put("content", "ok"))
          .put("finish_reason", "stop")))
      .put("usage", new JsonObject().put("prompt_tokens", 100).put("completion_tokens", 200)
          .put("total_tokens", 300)).encode();

  private HttpResponse<String> chat(String key) {
    return gateway.send(HttpRequest.newBuilder(URI.create(gateway.url("/v1/chat/completions")))
        .header("authorization", "Bearer " + key).header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"m\",\"messages\":"
            + "[{\"role\":\"user\",\"content\":\"hi\"}]}")).build());
  }

  // ---- retention: per-day counts outlive 35 days only for a lifetime spending limit ----

  @Test
  void perDayCountsOfAKeyWithoutALifetimeSpendingLimitArePurged() {
    upstream.always(json(200, CHAT_OK));
    gateway = Gateway.builder(vertx).provider("p", upstream.baseUrl()).model("m", "p").start();
    JsonObject created = gateway.adminPost("/admin/v1/accounts/" + gateway.accountId()
        + "/keys", new JsonObject().put("name", "rpm-only").put("rpm", 100));
    String keyId = created.getString("id");
    assertThat(chat(created.getString("key")).statusCode()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(5)).until(() -> gateway.sql(
        "SELECT count(*) FROM key_days WHERE key_id = '" + keyId + "'").get(0).getLong(0) == 1);
    // The same row, as it stands 60 days on (privacy.md: key_days are kept 35 days, longer
    // only "while a key without a reset period has a lifetime limit"; this key has none).
    gateway.sql("UPDATE key_days SET day = day - 60 WHERE key_id = '" + keyId + "'");

    Sync.await(gateway.flopex().retention().purge());

    assertThat(gateway.sql("SELECT count(*) FROM key_days WHERE key_id = '" + keyId + "'")
        .get(0).getLong(0)).as("key_days rows of an rpm-only key 60 days old").isZero();
  }

  // ---- erasure racing a settlement: no client request id reaches the ledger ----

  @Test
  void aSettlementRunningWhileTheAccountIsErasedKeepsNoRequestId() throws Exception {
    gateway = Gateway.builder(vertx).provider("p", upstream.baseUrl()).model("m", "p")
        .billing().start();
    String account = gateway.accountId();
    gateway.adminPost("/admin/v1/accounts/" + account + "/credits",
        new JsonObject().put("amount_micros", 10_000_000).put("reason", "welcome"));
    UUID reservation = UUID.randomUUID();
    String personal = "alice.smith.born.1984-03-02";
    gateway.sql("SELECT * FROM flopex_reserve('" + account + "', ARRAY['" + reservation
        + "'::uuid], ARRAY[1000::bigint], ARRAY['" + personal + "'])");

    // The erasure's transaction, statement for statement as AccountData.erase runs it, left open.
    SqlConnection eraser = Sync.await(gateway.flopex().pool().getConnection());
    Transaction tx = Sync.await(eraser.begin());
    String id = "'" + account + "'";
    for (String s : List.of(
        "UPDATE accounts SET email = '', erased_at = now() WHERE id = " + id,
        "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()), name = 'erased'"
            + " WHERE account_id = " + id,
        "UPDATE ledger SET request_id = NULL WHERE account_id = " + id
            + " AND request_id IS NOT NULL",
        "UPDATE reservations SET request_id = '' WHERE account_id = " + id)) {
      Sync.await(eraser.query(s).execute());
    }
    // The request ends meanwhile (Wallet.settle, as the gateway sends it).
    Future<RowSet<Row>> settled = gateway.flopex().pool().query("SELECT * FROM flopex_settle("
        + "ARRAY['" + reservation + "'::uuid], ARRAY[" + id + "::uuid], ARRAY[500::bigint],"
        + " ARRAY['" + personal + "'])").execute();
    awaitWaitingOnALock("flopex_settle");
    Sync.await(tx.commit());
    Sync.await(settled);
    eraser.close();

    assertThat(gateway.sql("SELECT count(*) FROM ledger WHERE request_id = '" + personal + "'")
        .get(0).getLong(0)).as("ledger rows of the erased account naming the request").isZero();
  }

  /** Waits until a statement calling {@code function} waits for a row another holds. */
  private void awaitWaitingOnALock(String function) {
    await().atMost(Duration.ofSeconds(10)).until(() -> gateway.sql("SELECT count(*) FROM"
        + " pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%" + function
        + "(%' AND pid <> pg_backend_pid()").get(0).getLong(0) > 0);
  }

  // ---- native Responses: [DONE] without response.completed is a cut stream ----

  private static String frame(JsonObject e) {
    return "event: " + e.getString("type") + "\ndata: " + e.encode() + "\n\n";
  }

  private Gateway nativeGateway() {
    JsonObject timeouts = new JsonObject().put("connectMs", 1000).put("firstByteMs", 5000)
        .put("idleMs", 5000).put("responseMs", 10000);
    return Gateway.builder(vertx)
        .provider("openai", "openai", upstream.baseUrl(), "sk-oai", timeouts)
        .model("openai-m", "openai").start();
  }

  @Test
  void aNativeStreamCutShortButEndingInDoneEndsInResponseFailed() {
    gateway = nativeGateway();
    JsonObject resp = new JsonObject().put("id", "resp_1").put("object", "response")
        .put("status", "in_progress").put("model", "up").put("output", new JsonArray());
    List<String> frames = new ArrayList<>();
    frames.add(frame(new JsonObject().put("type", "response.created").put("response", resp)
        .put("sequence_number", 0)));
    frames.add(frame(new JsonObject().put("type", "response.output_text.delta")
        .put("item_id", "m").put("output_index", 0).put("content_index", 0)
        .put("delta", "The answer is cut he").put("sequence_number", 1)));
    // No response.completed: the provider's stream broke; an intermediary closes it with [DONE].
    frames.add("data: [DONE]\n\n");
    upstream.then(FakeUpstream.writes(frames, 0, true));

    HttpResponse<String> answer = gateway.post("/v1/responses", new JsonObject()
        .put("model", "openai-m").put("input", "hi").put("stream", true).encode(),
        UUID.randomUUID().toString());

    assertThat(answer.body()).as("a stream that never completed")
        .doesNotContain("\"status\":\"completed\"").contains("response.failed");
  }

  // ---- native Responses: fields the warnings say were dropped are not sent ----

  @Test
  void fieldsReportedAsDroppedAreNotSentOnTheNativePath() {
    gateway = nativeGateway();
    upstream.then(json(200, new JsonObject().put("id", "resp_1").put("object", "response")
        .put("status", "completed").put("model", "up").put("output", new JsonArray())
        .put("usage", new JsonObject().put("input_tokens", 5).put("output_tokens", 1))
        .encode()));
    String bigReasoning = "x".repeat(50_000);
    JsonObject body = new JsonObject().put("model", "openai-m").put("max_output_tokens", 16)
        .put("truncation", "auto")
        .put("include", new JsonArray().add("message.output_text.logprobs"))
        .put("input", new JsonArray()
            .add(new JsonObject().put("type", "reasoning").put("id", "rs_1")
                .put("summary", new JsonArray().add(new JsonObject()
                    .put("type", "summary_text").put("text", bigReasoning))))
            .add(new JsonObject().put("role", "user").put("content", "hi")));

    HttpResponse<String> answer = gateway.post("/v1/responses", body.encode(),
        UUID.randomUUID().toString());

    assertThat(answer.statusCode()).isEqualTo(200);
    String warnings = answer.headers().firstValue("x-flopex-warnings").orElse("");
    assertThat(warnings).contains("include: no extra output is available and it was dropped")
        .contains("reasoning input items were dropped")
        .contains("truncation: the input is never truncated");
    JsonObject sent = upstream.lastRequest().body();
    assertThat(sent.fieldNames()).as("fields the client was told were dropped / ignored")
        .doesNotContain("include", "truncation");
    assertThat(sent.encode()).as("reasoning items the client was told were dropped")
        .doesNotContain(bigReasoning);
  }

  // ---- native Responses: an answer without usage gets the metered estimate and cost ----

  @Test
  void aNativeAnswerWithoutUsageCarriesTheMeteredEstimateAndItsCost() {
    gateway = nativeGateway();
    upstream.then(json(200, new JsonObject().put("id", "resp_1").put("object", "response")
        .put("status", "completed").put("model", "up").put("output", new JsonArray()
            .add(new JsonObject().put("id", "m").put("type", "message").put("role", "assistant")
                .put("status", "completed").put("content", new JsonArray().add(new JsonObject()
                    .put("type", "output_text").put("text", "hello there, a long enough answer")
                    .put("annotations", new JsonArray())))))
        .putNull("usage").encode()));
    String requestId = UUID.randomUUID().toString();

    HttpResponse<String> answer = gateway.post("/v1/responses", new JsonObject()
        .put("model", "openai-m").put("input", "hi").encode(), requestId);

    assertThat(answer.statusCode()).isEqualTo(200);
    Row row = gateway.awaitUsageRow(requestId);
    assertThat(row.getBoolean("tokens_estimated")).isTrue();
    JsonObject usage = new JsonObject(answer.body()).getJsonObject("usage");
    assertThat(usage).as("usage of an answer that was metered by estimate").isNotNull();
    assertThat(usage.getLong("output_tokens")).isEqualTo(row.getLong("completion_tokens"))
        .isPositive();
    assertThat(usage.getLong("cost_micros")).isEqualTo(row.getLong("cost_micros"));
  }

  // ---- a client that leaves while its admission waits on the key's row ----

  @Test
  void aClientLeavingDuringAdmissionLeavesNoRequestInFlight() throws Exception {
    upstream.always(json(200, CHAT_OK));
    gateway = Gateway.builder(vertx).provider("p", upstream.baseUrl()).model("m", "p").start();
    JsonObject created = gateway.adminPost("/admin/v1/accounts/" + gateway.accountId()
        + "/keys", new JsonObject().put("name", "one-at-a-time").put("max_concurrent", 1));
    String keyId = created.getString("id");
    // Another node's admission of this key holds its row for a moment.
    SqlConnection other = Sync.await(gateway.flopex().pool().getConnection());
    Transaction tx = Sync.await(other.begin());
    Sync.await(other.query("SELECT 1 FROM api_keys WHERE id = '" + keyId + "' FOR UPDATE")
        .execute());
    String body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", gateway.port())) {
      socket.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
          + "Authorization: Bearer " + created.getString("key") + "\r\n"
          + "Content-Type: application/json\r\nContent-Length: " + body.length()
          + "\r\n\r\n" + body).getBytes(java.nio.charset.StandardCharsets.UTF_8));
      socket.getOutputStream().flush();
      awaitWaitingOnALock("flopex_lease");
    }
    Sync.await(tx.commit());
    other.close();

    // The exchange ends with the client gone: its usage row says so; its slot is given back.
    await().atMost(Duration.ofSeconds(10)).until(() -> gateway.sql("SELECT count(*) FROM"
        + " usage_events WHERE key_id = '" + keyId + "' AND outcome = 'client_disconnected'")
        .get(0).getLong(0) == 1);
    await().atMost(Duration.ofSeconds(5)).until(() -> gateway.sql("SELECT coalesce(sum(in_flight),"
        + " 0) FROM key_leases WHERE key_id = '" + keyId + "'").get(0).getLong(0) == 0);
    assertThat(chat(created.getString("key")).statusCode()).isEqualTo(200);
  }
}
