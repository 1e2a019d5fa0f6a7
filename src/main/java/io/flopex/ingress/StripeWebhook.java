package io.flopex.ingress;

import com.stripe.exception.SignatureVerificationException;
import com.stripe.net.Webhook;
import io.flopex.db.StripeStore;
import io.flopex.db.StripeStore.Outcome;
import io.vertx.core.Future;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /webhooks/stripe}: Stripe's events about payments, verified by their
 * {@code Stripe-Signature} with the endpoint's secret (stripe-java checks the HMAC and that the
 * timestamp is at most five minutes old). A bad or stale signature gets 400 and changes nothing.
 *
 * <ul>
 *   <li>{@code checkout.session.completed} when paid, or
 *       {@code checkout.session.async_payment_succeeded} for a payment confirmed later, in USD:
 *       credits {@code amount_total} to the account named by {@code client_reference_id}, once
 *       per payment.
 *   <li>{@code charge.refunded}: takes what was refunded since the last refund event.
 *   <li>{@code charge.dispute.created}: takes the disputed amount.
 *   <li>anything else: 200, nothing changes.
 * </ul>
 *
 * Events are read as plain JSON, not through stripe-java's typed model, so an event written
 * with another Stripe API version than the library's is read the same way. Each event id takes
 * effect once. A refund or dispute of a payment whose checkout event has not arrived yet gets
 * 409, so that Stripe delivers it again later.
 */
final class StripeWebhook {

  private static final Logger LOG = LoggerFactory.getLogger(StripeWebhook.class);
  private static final long TOLERANCE_SECONDS = 300;

  private final String secret;
  private final StripeStore store;

  StripeWebhook(String secret, StripeStore store) {
    this.secret = secret;
    this.store = store;
  }

  void handle(RoutingContext ctx) {
    String payload = ctx.body().buffer() == null ? ""
        : ctx.body().buffer().toString(StandardCharsets.UTF_8);
    String signature = ctx.request().getHeader("stripe-signature");
    if (signature == null) {
      refuse(ctx, 400, "The Stripe-Signature header is missing.");
      return;
    }
    try {
      Webhook.Signature.verifyHeader(payload, signature, secret, TOLERANCE_SECONDS);
    } catch (SignatureVerificationException | RuntimeException e) {
      LOG.warn("Stripe webhook refused: the signature does not verify ({})",
          e instanceof SignatureVerificationException ? e.getMessage() : "malformed header");
      refuse(ctx, 400, "The Stripe-Signature does not verify with this endpoint's secret, or"
          + " its timestamp is too old.");
      return;
    }
    JsonObject event;
    try {
      event = new JsonObject(payload);
    } catch (DecodeException | ClassCastException e) {
      refuse(ctx, 400, "The event is not a JSON object.");
      return;
    }
    String id = event.getValue("id") instanceof String s ? s : null;
    String type = event.getValue("type") instanceof String s ? s : null;
    JsonObject object = event.getValue("data") instanceof JsonObject data
        && data.getValue("object") instanceof JsonObject o ? o : null;
    if (id == null || type == null || object == null) {
      refuse(ctx, 400, "The event has no id, type or data.object.");
      return;
    }
    Future<Outcome> outcome;
    try {
      outcome = apply(id, type, object);
    } catch (IllegalArgumentException e) {
      LOG.error("Stripe event {} ({}) could not be used: {}", id, type, e.getMessage());
      refuse(ctx, 400, "The event could not be used: " + e.getMessage());
      return;
    }
    outcome.onComplete(result -> {
      if (result.failed()) {
        LOG.error("Stripe event {} ({}) could not be stored: {}", id, type,
            result.cause().getMessage());
        refuse(ctx, 503, "The event could not be stored; deliver it again.");
        return;
      }
      Outcome o = result.result();
      switch (o) {
        case APPLIED -> LOG.info("Stripe event {} ({}) applied to a wallet", id, type);
        case UNMATCHED -> LOG.error("Stripe event {} ({}) names no known account; recorded for an"
            + " operator, nothing credited", id, type);
        case UNKNOWN_PAYMENT -> LOG.warn("Stripe event {} ({}) refers to a payment not seen yet;"
            + " asking Stripe to deliver it again", id, type);
        default -> { }
      }
      if (o == Outcome.UNKNOWN_PAYMENT) {
        refuse(ctx, 409, "The payment this event refers to is not known yet; deliver it again"
            + " later.");
        return;
      }
      IngressVerticle.json(ctx, 200, new JsonObject().put("received", true)
          .put("outcome", o.name().toLowerCase(Locale.ROOT)));
    });
  }

  private Future<Outcome> apply(String id, String type, JsonObject object) {
    switch (type) {
      case "checkout.session.completed", "checkout.session.async_payment_succeeded" -> {
        String currency = text(object, "currency");
        if (!"paid".equals(object.getValue("payment_status"))
            || !"usd".equalsIgnoreCase(currency)) {
          LOG.warn("Stripe event {}: checkout session not paid in USD (payment_status {},"
              + " currency {}); nothing credited", id, object.getValue("payment_status"), currency);
          return store.ignore(id, type);
        }
        UUID account;
        try {
          account = UUID.fromString(text(object, "client_reference_id"));
        } catch (IllegalArgumentException | NullPointerException e) {
          return store.ignore(id, type).map(o -> o == Outcome.DUPLICATE ? o : Outcome.UNMATCHED);
        }
        long cents = cents(object, "amount_total");
        return store.checkoutCompleted(id, type, required(object, "id"),
            paymentIntent(object, "payment_intent"), account, cents);
      }
      case "charge.refunded" -> {
        return store.refunded(id, paymentIntent(object, "payment_intent"),
            required(object, "id"), cents(object, "amount_refunded"));
      }
      case "charge.dispute.created" -> {
        return store.disputed(id, paymentIntent(object, "payment_intent"),
            required(object, "id"), cents(object, "amount"));
      }
      default -> {
        return store.ignore(id, type);
      }
    }
  }

  /** A PaymentIntent reference: an id, or the expanded object. */
  private static String paymentIntent(JsonObject object, String field) {
    Object value = object.getValue(field);
    if (value instanceof JsonObject expanded) {
      value = expanded.getValue("id");
    }
    if (value instanceof String s && !s.isBlank()) {
      return s;
    }
    throw new IllegalArgumentException("'" + field + "' is missing");
  }

  private static String text(JsonObject object, String field) {
    return object.getValue(field) instanceof String s ? s : null;
  }

  private static String required(JsonObject object, String field) {
    String value = text(object, field);
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException("'" + field + "' is missing");
    }
    return value;
  }

  private static long cents(JsonObject object, String field) {
    Object value = object.getValue(field);
    if ((value instanceof Integer || value instanceof Long) && ((Number) value).longValue() >= 0
        && ((Number) value).longValue() <= Long.MAX_VALUE / StripeStore.MICROS_PER_CENT) {
      return ((Number) value).longValue();
    }
    throw new IllegalArgumentException("'" + field + "' is not a whole number of cents");
  }

  private static void refuse(RoutingContext ctx, int status, String message) {
    IngressVerticle.json(ctx, status, new JsonObject().put("error",
        new JsonObject().put("message", message)));
  }
}
