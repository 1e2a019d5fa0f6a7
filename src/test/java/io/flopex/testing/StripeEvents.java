package io.flopex.testing;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** Stripe webhook events as Stripe writes and signs them. */
public final class StripeEvents {

  private StripeEvents() {}

  /**
   * The {@code Stripe-Signature} header for a payload: HMAC-SHA256 with the endpoint secret over
   * the timestamp, a dot and the payload.
   */
  public static String sign(String payload, String secret, long timestamp) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      byte[] digest = mac.doFinal((timestamp + "." + payload).getBytes(StandardCharsets.UTF_8));
      return "t=" + timestamp + ",v1=" + HexFormat.of().formatHex(digest);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public static String event(String id, String type, String apiVersion, JsonObject object) {
    return new JsonObject().put("id", id).put("object", "event").put("api_version", apiVersion)
        .put("created", 1_700_000_000).put("type", type).put("livemode", false)
        .put("data", new JsonObject().put("object", object)).encode();
  }

  /** A paid Checkout Session of {@code cents} for the account. */
  public static String checkout(String eventId, String accountId, String paymentIntent,
      long cents) {
    return event(eventId, "checkout.session.completed", "2024-06-20", new JsonObject()
        .put("id", "cs_test_" + paymentIntent).put("object", "checkout.session")
        .put("client_reference_id", accountId).put("amount_total", cents)
        .put("currency", "usd").put("payment_status", "paid").put("status", "complete")
        .put("payment_intent", paymentIntent));
  }
}
