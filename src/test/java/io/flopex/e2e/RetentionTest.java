package io.flopex.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flopex.db.BillingRecords;
import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.MutableClock;
import io.flopex.testing.StripeEvents;
import io.flopex.testing.Sync;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Retention moved forward by an injected clock: usage metadata goes after 90 days while every
 * billing record stays; after seven years the ledger keeps only a carried-forward balance, so
 * that the wallet still equals the sum of its ledger, and Stripe records go.
 */
class RetentionTest {

  private static final String SECRET = "whsec_retention_0123456789";

  private Vertx vertx;
  private FakeUpstream upstream;
  private Gateway gateway;
  private final MutableClock clock = new MutableClock();

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    upstream = FakeUpstream.start(vertx);
    gateway = Gateway.builder(vertx)
        .provider("p", upstream.baseUrl())
        .model("m", new JsonObject().put("prompt", 1).put("completion", 1000), "p")
        .billing()
        .stripe("webhookSecret", SECRET)
        .clock(clock)
        .start();
  }

  @AfterEach
  void stop() {
    gateway.close();
    upstream.close();
    Sync.await(vertx.close());
  }

  private String account() {
    return gateway.accountId();
  }

  private long balance() {
    return gateway.adminGet("/admin/v1/accounts/" + account()).getLong("balance_micros");
  }

  private long ledgerSum() {
    return gateway.sql("SELECT coalesce(sum(amount_micros), 0) FROM ledger WHERE account_id = '"
        + account() + "'").get(0).getLong(0);
  }

  private long count(String table) {
    return gateway.sql("SELECT count(*) FROM " + table).get(0).getLong(0);
  }

  private void chat() {
    String id = UUID.randomUUID().toString();
    HttpResponse<String> response = gateway.post("/v1/chat/completions",
        "{\"model\":\"m\",\"max_tokens\":10,\"messages\":[{\"role\":\"user\","
            + "\"content\":\"hi\"}]}", id);
    assertThat(response.statusCode()).isEqualTo(200);
    gateway.awaitUsageRow(id);
    await().atMost(Duration.ofSeconds(10)).until(() -> !gateway.sql(
        "SELECT 1 FROM ledger WHERE request_id = '" + id + "'").isEmpty());
  }

  private JsonArray credits() {
    String token = gateway.accountToken();
    HttpResponse<String> response = gateway.send(HttpRequest.newBuilder(URI.create(
            gateway.url("/v1/credits"))).header("authorization", "Bearer " + token).GET()
        .build());
    assertThat(response.statusCode()).isEqualTo(200);
    JsonObject body = new JsonObject(response.body());
    assertThat(body.getLong("balance_micros")).isEqualTo(balance());
    return body.getJsonArray("data");
  }

  @Test
  void usageGoesAfterNinetyDaysAndTheLedgerAfterSevenYearsAsACarriedBalance() {
    String payload = StripeEvents.checkout("evt_ret_1", account(), "pi_ret_1", 500);
    HttpResponse<String> paid = gateway.send(HttpRequest.newBuilder(URI.create(
            gateway.url("/webhooks/stripe")))
        .header("content-type", "application/json")
        .header("Stripe-Signature", StripeEvents.sign(payload, SECRET,
            System.currentTimeMillis() / 1000))
        .POST(HttpRequest.BodyPublishers.ofString(payload)).build());
    assertThat(paid.statusCode()).isEqualTo(200);
    chat();
    chat();
    chat();
    long balance = balance();
    assertThat(balance).isLessThan(5_000_000).isEqualTo(ledgerSum());
    assertThat(count("ledger")).isEqualTo(4);

    clock.advance(Duration.ofDays(91));
    assertThat(Sync.await(gateway.flopex().retention().purge())).isEqualTo(3);
    assertThat(Sync.await(gateway.flopex().retention().purgeBilling()))
        .isEqualTo(BillingRecords.Purged.NOTHING);
    assertThat(gateway.usageRowCount()).isZero();
    assertThat(count("ledger")).isEqualTo(4);
    assertThat(count("stripe_events")).isEqualTo(1);
    assertThat(count("stripe_payments")).isEqualTo(1);
    assertThat(balance()).isEqualTo(balance);

    clock.advance(Duration.ofDays(7 * 366));
    BillingRecords.Purged purged = Sync.await(gateway.flopex().retention().purgeBilling());
    assertThat(purged).isEqualTo(new BillingRecords.Purged(3, 1, 1, 1));
    assertThat(count("stripe_events")).isZero();
    assertThat(count("stripe_payments")).isZero();
    JsonArray entries = credits();
    assertThat(entries).hasSize(1);
    assertThat(entries.getJsonObject(0).getString("kind")).isEqualTo("carried_forward");
    assertThat(entries.getJsonObject(0).getLong("amount_micros")).isEqualTo(balance);
    assertThat(balance()).isEqualTo(balance).isEqualTo(ledgerSum());

    // The wallet goes on: a request after the purge is charged from the carried balance.
    chat();
    assertThat(credits()).hasSize(2);
    assertThat(balance()).isLessThan(balance).isEqualTo(ledgerSum());
  }
}
