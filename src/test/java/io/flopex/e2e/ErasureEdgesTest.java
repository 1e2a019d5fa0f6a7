package io.flopex.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.Sync;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Erasure and export at their edges: a client's request id chosen to carry personal data, a
 * request still running when its account is erased, and the counts a key with limits leaves.
 */
class ErasureEdgesTest {

  /** A client-chosen x-request-id carrying personal data (allowed by [A-Za-z0-9._:-]{1,128}). */
  private static final String PERSONAL_REQUEST_ID = "alice.smith.born.1984-03-02.patient:4711";

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

  private String token() {
    return gateway.accountToken();
  }

  private HttpResponse<String> call(String method, String path, String bearer) {
    return gateway.send(HttpRequest.newBuilder(URI.create(gateway.url(path)))
        .header("authorization", "Bearer " + bearer)
        .method(method, HttpRequest.BodyPublishers.noBody()).build());
  }

  private String adminExport() {
    return gateway.send(HttpRequest.newBuilder(URI.create(gateway.url(
            "/admin/v1/accounts/" + gateway.accountId() + "/export")))
        .header("authorization", "Bearer " + Gateway.ADMIN_TOKEN).GET().build()).body();
  }

  /** The ledger kept after erasure no longer carries the request ids the client chose. */
  @Test
  void erasureTakesTheClientsRequestIdsOutOfTheLedger() {
    gateway = Gateway.builder(vertx).provider("p", upstream.baseUrl()).model("m", "p")
        .billing().start();
    gateway.adminPost("/admin/v1/accounts/" + gateway.accountId() + "/credits",
        new JsonObject().put("amount_micros", 10_000_000).put("reason", "welcome"));
    HttpResponse<String> r = gateway.post("/v1/chat/completions",
        "{\"model\":\"m\",\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
        PERSONAL_REQUEST_ID);
    assertThat(r.statusCode()).isEqualTo(200);
    gateway.awaitUsageRow(PERSONAL_REQUEST_ID);

    assertThat(call("DELETE", "/v1/account", token()).statusCode()).isEqualTo(200);

    String after = adminExport();
    String dump = gateway.databaseDump();
    assertThat(new JsonObject(after).getJsonArray("usage")).isEmpty();
    assertThat(new JsonObject(after).getJsonArray("ledger")).hasSize(2);
    assertThat(after).as("export after erasure").doesNotContain(PERSONAL_REQUEST_ID);
    assertThat(dump).as("database after erasure").doesNotContain(PERSONAL_REQUEST_ID);
  }

  /** A request still running when its account is erased leaves no usage row when it ends. */
  @Test
  void aRequestInFlightDuringErasureLeavesNoUsageRow() {
    upstream.always((req, resp, v) -> v.setTimer(1_500, id -> resp.setStatusCode(200)
        .putHeader("content-type", "application/json")
        .end(FakeUpstream.fixture("openai/openai-text.json"))));
    String database = io.flopex.testing.TestPostgres.newDatabaseUrl();
    gateway = Gateway.builder(vertx).provider("p", upstream.baseUrl()).model("m", "p")
        .database(database).start();
    String token = token();
    String account = gateway.accountId();

    CompletableFuture<HttpResponse<String>> inFlight = CompletableFuture.supplyAsync(() ->
        gateway.post("/v1/chat/completions", "{\"model\":\"m\",\"messages\":[{\"role\":"
            + "\"user\",\"content\":\"hi\"}]}", PERSONAL_REQUEST_ID));
    await().atMost(Duration.ofSeconds(5)).until(() -> upstream.calls() == 1);
    assertThat(call("DELETE", "/v1/account", token).statusCode()).isEqualTo(200);
    assertThat(inFlight.join().statusCode()).isEqualTo(200);
    // Stopping the node writes every usage row still waiting; none may be this account's.
    gateway.close();
    gateway = null;

    io.vertx.sqlclient.Pool pool = io.vertx.pgclient.PgBuilder.pool()
        .connectingTo(io.vertx.pgclient.PgConnectOptions.fromUri(database)).using(vertx).build();
    try {
      assertThat(Sync.await(pool.query("SELECT count(*) FROM usage_events WHERE account_id = '"
          + account + "'").execute()).iterator().next().getLong(0))
          .as("usage rows of the erased account").isZero();
    } finally {
      Sync.await(pool.close());
    }
  }

  /** The counts a key with limits keeps (per second, per day, per node) are in the export. */
  @Test
  void theExportHoldsTheCountsOfKeysWithLimits() {
    gateway = Gateway.builder(vertx).provider("p", upstream.baseUrl()).model("m", "p").start();
    String limited = gateway.adminPost("/admin/v1/accounts/" + gateway.accountId() + "/keys",
        new JsonObject().put("name", "limited").put("rpm", 100)).getString("key");
    HttpResponse<String> r = gateway.send(HttpRequest.newBuilder(URI.create(gateway.url(
            "/v1/chat/completions")))
        .header("authorization", "Bearer " + limited)
        .header("x-request-id", PERSONAL_REQUEST_ID)
        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"m\",\"messages\":[{\"role\":"
            + "\"user\",\"content\":\"hi\"}]}")).build());
    assertThat(r.statusCode()).isEqualTo(200);
    Row usage = gateway.awaitUsageRow(PERSONAL_REQUEST_ID);
    await().atMost(Duration.ofSeconds(5)).until(() -> gateway.sql("SELECT count(*) FROM"
        + " key_days").get(0).getLong(0) == 1);
    // A lease as a node holds it while requests of the key run.
    gateway.sql("INSERT INTO key_leases SELECT id, gen_random_uuid(), 1, 10, 20, 0, 0, 0, now(),"
        + " now() FROM api_keys WHERE rpm = 100");

    JsonObject export = new JsonObject(call("GET", "/v1/account/export", token()).body());
    assertThat(export.getJsonArray("key_limit_seconds")).isNotEmpty();
    assertThat(export.getJsonArray("key_limit_days")).hasSize(1);
    assertThat(export.getJsonArray("key_limit_days").getJsonObject(0).getLong("cost_micros"))
        .isEqualTo(usage.getLong("cost_micros"));
    // This node's own row, and the one written above.
    assertThat(export.getJsonArray("key_limit_leases")).hasSize(2);
    assertThat(export.getJsonArray("key_limit_leases").stream()
        .map(row -> ((JsonObject) row).getLong("in_flight"))).containsExactlyInAnyOrder(0L, 1L);
    assertThat(export.getJsonArray("reservations")).isEmpty();

    assertThat(call("DELETE", "/v1/account", token()).statusCode()).isEqualTo(200);
    assertThat(gateway.sql("SELECT (SELECT count(*) FROM key_leases)"
        + " + (SELECT count(*) FROM key_seconds) + (SELECT count(*) FROM key_days)").get(0)
        .getLong(0)).as("key-limit counts after erasure").isZero();
  }
}
