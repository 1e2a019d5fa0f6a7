package io.flopex.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.Sync;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The account holder's export of everything held about them, and erasure. */
class AccountDataTest {

  private static final String CANARY = "CANARY-export-5e1f";

  private Vertx vertx;
  private FakeUpstream upstream;
  private Gateway gateway;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    upstream = FakeUpstream.start(vertx);
    gateway = Gateway.builder(vertx).provider("p", upstream.baseUrl()).model("m", "p").start();
  }

  @AfterEach
  void stop() {
    gateway.close();
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

  private void chat() {
    String id = UUID.randomUUID().toString();
    gateway.post("/v1/chat/completions", "{\"model\":\"m\",\"messages\":[{\"role\":\"user\","
        + "\"content\":\"" + CANARY + "\"}]}", id);
    gateway.awaitUsageRow(id);
  }

  @Test
  void theExportHoldsEverythingAboutTheAccountAndNoContent() {
    chat();
    chat();
    gateway.adminPost("/admin/v1/accounts/" + gateway.accountId() + "/credits",
        new JsonObject().put("amount_micros", 1_000).put("reason", "welcome"));
    // Many more usage rows than fit in one fetch, to go through the cursor.
    gateway.sql("INSERT INTO usage_events (id, request_id, created_at, account_id, key_id,"
        + " streamed, outcome, status, attempts, prompt_tokens, completion_tokens, cached_tokens,"
        + " reasoning_tokens, tokens_estimated, cost_micros, latency_ms, ttfb_ms)"
        + " SELECT gen_random_uuid(), 'bulk-' || g, now(), '" + gateway.accountId() + "',"
        + " gen_random_uuid(), false, 'success', 200, '[]', 1, 1, 0, 0, false, 1, 1, 0"
        + " FROM generate_series(1, 5000) g");

    HttpResponse<String> response = call("GET", "/v1/account/export", token());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("content-disposition").orElseThrow())
        .contains("attachment");
    JsonObject export = new JsonObject(response.body());
    assertThat(export.getJsonObject("account").getString("email")).isEqualTo("test@example.com");
    assertThat(export.getJsonArray("keys")).hasSize(1);
    assertThat(export.getJsonArray("management_keys")).hasSize(1);
    assertThat(export.getJsonArray("ledger")).hasSize(1);
    assertThat(export.getJsonArray("usage")).hasSize(5002);
    assertThat(response.body()).doesNotContain(CANARY).doesNotContain(gateway.key())
        .doesNotContain("key_hash");
  }

  @Test
  void erasureRevokesEveryKeyRemovesWhatIsPersonalAndKeepsTheLedgerUnlinked() {
    chat();
    gateway.adminPost("/admin/v1/accounts/" + gateway.accountId() + "/credits",
        new JsonObject().put("amount_micros", 1_000).put("reason", "welcome"));
    String token = token();

    HttpResponse<String> erased = call("DELETE", "/v1/account", token);

    assertThat(erased.statusCode()).isEqualTo(200);
    assertThat(gateway.post("/v1/chat/completions", "{\"model\":\"m\",\"messages\":"
        + "[{\"role\":\"user\",\"content\":\"hi\"}]}").statusCode()).isEqualTo(401);
    assertThat(call("GET", "/v1/account", token).statusCode()).isEqualTo(401);
    HttpResponse<String> after = gateway.send(HttpRequest.newBuilder(URI.create(gateway.url(
            "/admin/v1/accounts/" + gateway.accountId() + "/export")))
        .header("authorization", "Bearer " + Gateway.ADMIN_TOKEN).GET().build());
    assertThat(after.statusCode()).isEqualTo(200);
    JsonObject export = new JsonObject(after.body());
    assertThat(after.body()).doesNotContain("test@example.com").doesNotContain("\"test\"");
    assertThat(export.getJsonObject("account").getString("erased_at")).isNotNull();
    assertThat(export.getJsonArray("usage")).isEmpty();
    assertThat(export.getJsonArray("ledger")).hasSize(1);
    assertThat(export.getJsonArray("keys").getJsonObject(0).getString("revoked_at")).isNotNull();
  }
}
