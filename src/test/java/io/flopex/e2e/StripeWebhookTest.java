package io.flopex.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.flopex.testing.Gateway;
import io.flopex.testing.StripeEvents;
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

/**
 * Stripe's webhook events, signed as Stripe signs them (HMAC-SHA256 over the timestamp and the
 * payload, in the {@code Stripe-Signature} header), credit and debit wallets exactly once.
 */
class StripeWebhookTest {

  private static final String SECRET = "whsec_test_0123456789abcdef";

  private Vertx vertx;
  private Gateway gateway;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    gateway = Gateway.builder(vertx).stripe("webhookSecret", SECRET).start();
  }

  @AfterEach
  void stop() {
    gateway.close();
    Sync.await(vertx.close());
  }

  private static String sign(String payload, String secret, long timestamp) {
    return StripeEvents.sign(payload, secret, timestamp);
  }

  private HttpResponse<String> deliver(String payload, String signature) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(gateway.url(
            "/webhooks/stripe")))
        .header("content-type", "application/json; charset=utf-8")
        .POST(HttpRequest.BodyPublishers.ofString(payload));
    if (signature != null) {
      request.header("Stripe-Signature", signature);
    }
    return gateway.send(request.build());
  }

  private HttpResponse<String> deliver(String payload) {
    return deliver(payload, sign(payload, SECRET, System.currentTimeMillis() / 1000));
  }

  private static String event(String id, String type, String apiVersion, JsonObject object) {
    return StripeEvents.event(id, type, apiVersion, object);
  }

  private String checkout(String eventId, String paymentIntent, long cents) {
    return StripeEvents.checkout(eventId, gateway.accountId(), paymentIntent, cents);
  }

  private static String refund(String eventId, String paymentIntent, long refundedCents) {
    return event(eventId, "charge.refunded", "2020-08-27", new JsonObject()
        .put("id", "ch_" + paymentIntent).put("object", "charge").put("amount", 1000)
        .put("amount_refunded", refundedCents).put("currency", "usd")
        .put("payment_intent", paymentIntent).put("refunded", true));
  }

  private long balance() {
    return gateway.adminGet("/admin/v1/accounts/" + gateway.accountId())
        .getLong("balance_micros");
  }

  private long ledgerSum() {
    return gateway.sql("SELECT coalesce(sum(amount_micros), 0) FROM ledger").get(0).getLong(0);
  }

  @Test
  void aPaidCheckoutCreditsTheAccountInMicroUsd() {
    HttpResponse<String> response = deliver(checkout("evt_1", "pi_1", 1_000));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(balance()).isEqualTo(10_000_000);
    assertThat(ledgerSum()).isEqualTo(10_000_000);
    assertThat(gateway.databaseDump()).contains("cs_test_pi_1").doesNotContain("card");
  }

  @Test
  void anEventDeliveredTenTimesCreditsOnce() {
    String payload = checkout("evt_replayed", "pi_2", 2_500);
    for (int i = 0; i < 10; i++) {
      assertThat(deliver(payload).statusCode()).isEqualTo(200);
    }
    assertThat(balance()).isEqualTo(25_000_000);
    assertThat(gateway.sql("SELECT count(*) FROM ledger").get(0).getLong(0)).isEqualTo(1);
  }

  @Test
  void theSamePaymentUnderAnotherEventIdIsNotCreditedTwice() {
    deliver(checkout("evt_a", "pi_3", 500));
    assertThat(deliver(checkout("evt_b", "pi_3", 500)).statusCode()).isEqualTo(200);
    assertThat(balance()).isEqualTo(5_000_000);
  }

  @Test
  void aRefundAfterATopUpTakesWhatWasRefundedAndPartialRefundsAddUp() {
    deliver(checkout("evt_pay", "pi_4", 1_000));

    assertThat(deliver(refund("evt_r1", "pi_4", 300)).statusCode()).isEqualTo(200);
    assertThat(balance()).isEqualTo(7_000_000);
    assertThat(deliver(refund("evt_r2", "pi_4", 1_000)).statusCode()).isEqualTo(200);
    deliver(refund("evt_r2", "pi_4", 1_000));

    assertThat(balance()).isZero();
    assertThat(ledgerSum()).isEqualTo(balance());
  }

  @Test
  void aRefundArrivingBeforeItsPaymentIsAskedForAgainAndThenApplied() {
    HttpResponse<String> early = deliver(refund("evt_early", "pi_5", 1_000));
    assertThat(early.statusCode()).isEqualTo(409);
    assertThat(balance()).isZero();

    deliver(checkout("evt_late", "pi_5", 1_000));
    assertThat(deliver(refund("evt_early", "pi_5", 1_000)).statusCode()).isEqualTo(200);

    assertThat(balance()).isZero();
    assertThat(gateway.sql("SELECT count(*) FROM ledger").get(0).getLong(0)).isEqualTo(2);
  }

  @Test
  void aDisputeTakesTheDisputedAmount() {
    deliver(checkout("evt_pay6", "pi_6", 2_000));
    String dispute = event("evt_dp", "charge.dispute.created", "2019-02-19", new JsonObject()
        .put("id", "dp_1").put("object", "dispute").put("amount", 2_000)
        .put("currency", "usd").put("payment_intent", "pi_6").put("charge", "ch_6"));

    assertThat(deliver(dispute).statusCode()).isEqualTo(200);

    assertThat(balance()).isZero();
  }

  @Test
  void aSignatureFromTheWrongSecretChangesNothing() {
    String payload = checkout("evt_forged", "pi_7", 100_000);
    HttpResponse<String> response = deliver(payload,
        sign(payload, "whsec_attacker", System.currentTimeMillis() / 1000));

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(balance()).isZero();
    assertThat(gateway.sql("SELECT count(*) FROM stripe_events").get(0).getLong(0)).isZero();
  }

  @Test
  void aStaleOrMissingOrMalformedSignatureChangesNothing() {
    String payload = checkout("evt_stale", "pi_8", 100);
    long tenMinutesAgo = System.currentTimeMillis() / 1000 - 600;
    assertThat(deliver(payload, sign(payload, SECRET, tenMinutesAgo)).statusCode())
        .isEqualTo(400);
    assertThat(deliver(payload, null).statusCode()).isEqualTo(400);
    assertThat(deliver(payload, "t=abc,v1=zz").statusCode()).isEqualTo(400);
    assertThat(deliver(payload, "garbage").statusCode()).isEqualTo(400);
    String tampered = payload.replace("\"amount_total\":100", "\"amount_total\":100000");
    assertThat(deliver(tampered, sign(payload, SECRET, System.currentTimeMillis() / 1000))
        .statusCode()).isEqualTo(400);
    assertThat(balance()).isZero();
  }

  @Test
  void eventsFlopexDoesNotUseAreAcknowledged() {
    String payload = event("evt_other", "customer.created", "2024-06-20",
        new JsonObject().put("id", "cus_1").put("object", "customer"));
    HttpResponse<String> response = deliver(payload);
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(balance()).isZero();
  }

  @Test
  void aCheckoutForAnUnknownAccountOrNotYetPaidCreditsNothing() {
    String unknown = event("evt_u", "checkout.session.completed", "2024-06-20", new JsonObject()
        .put("id", "cs_u").put("client_reference_id", UUID.randomUUID().toString())
        .put("amount_total", 100).put("currency", "usd").put("payment_status", "paid")
        .put("payment_intent", "pi_u"));
    assertThat(deliver(unknown).statusCode()).isEqualTo(200);
    String unpaid = event("evt_np", "checkout.session.completed", "2024-06-20", new JsonObject()
        .put("id", "cs_np").put("client_reference_id", gateway.accountId())
        .put("amount_total", 100).put("currency", "usd").put("payment_status", "unpaid")
        .put("payment_intent", "pi_np"));
    assertThat(deliver(unpaid).statusCode()).isEqualTo(200);
    assertThat(balance()).isZero();
    assertThat(gateway.sql("SELECT outcome FROM stripe_events WHERE id = 'evt_u'").get(0)
        .getString(0)).isEqualTo("unmatched");
  }

  @Test
  void malformedEventsAreRefusedWithoutA500() {
    for (String payload : new String[] {"[]", "not json", "{}",
        "{\"id\":\"evt_x\",\"type\":\"charge.refunded\",\"data\":{\"object\":{\"id\":\"ch\","
            + "\"amount_refunded\":\"lots\",\"payment_intent\":\"pi\"}}}"}) {
      HttpResponse<String> response = deliver(payload);
      assertThat(response.statusCode()).as(payload).isEqualTo(400);
    }
  }

  @Test
  void aPaymentConfirmedLaterIsCreditedWhenItSucceeds() {
    JsonObject session = new JsonObject().put("id", "cs_async").put("object", "checkout.session")
        .put("client_reference_id", gateway.accountId()).put("amount_total", 700)
        .put("currency", "usd").put("payment_intent", "pi_async");
    deliver(event("evt_pending", "checkout.session.completed", "2024-06-20",
        session.copy().put("payment_status", "unpaid")));
    assertThat(balance()).isZero();

    deliver(event("evt_settled", "checkout.session.async_payment_succeeded", "2024-06-20",
        session.copy().put("payment_status", "paid")));

    assertThat(balance()).isEqualTo(7_000_000);
  }
}
