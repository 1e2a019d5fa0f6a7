package io.flopex.ingress;

import com.stripe.StripeClient;
import com.stripe.exception.StripeException;
import com.stripe.model.checkout.Session;
import com.stripe.param.checkout.SessionCreateParams;
import io.flopex.bus.Failure;
import io.flopex.config.FlopexConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Top-ups through Stripe Checkout: a Checkout Session for a whole number of cents, with the
 * account's id as {@code client_reference_id}, so that the {@code checkout.session.completed}
 * event credits the right wallet. stripe-java's calls block, so they run on a worker thread.
 */
final class Checkout {

  private static final Logger LOG = LoggerFactory.getLogger(Checkout.class);
  static final long MIN_MICROS = 1_000_000;
  static final long MAX_MICROS = 10_000_000_000L;

  private final Vertx vertx;
  private final StripeClient stripe;
  private final FlopexConfig.Stripe config;

  Checkout(Vertx vertx, FlopexConfig.Stripe config) {
    this.vertx = vertx;
    this.config = config;
    this.stripe = StripeClient.builder()
        .setApiKey(config.secretKey())
        .setApiBase(config.apiBase())
        .setConnectTimeout(10_000)
        .setReadTimeout(30_000)
        .setMaxNetworkRetries(2)
        .build();
  }

  /** Creates the session; the result carries its id and the URL to send the buyer to. */
  Future<JsonObject> create(UUID account, long micros) {
    if (micros < MIN_MICROS || micros > MAX_MICROS
        || micros % io.flopex.db.StripeStore.MICROS_PER_CENT != 0) {
      return Future.failedFuture(new ApiError(Failure.INVALID_REQUEST, "'amount' must be micro-USD"
          + " in whole cents, from " + MIN_MICROS + " (1 USD) to " + MAX_MICROS + ".", "amount"));
    }
    long cents = micros / io.flopex.db.StripeStore.MICROS_PER_CENT;
    SessionCreateParams params = SessionCreateParams.builder()
        .setMode(SessionCreateParams.Mode.PAYMENT)
        .setClientReferenceId(account.toString())
        .setSuccessUrl(config.successUrl())
        .setCancelUrl(config.cancelUrl())
        .putMetadata("flopex_account", account.toString())
        .addLineItem(SessionCreateParams.LineItem.builder()
            .setQuantity(1L)
            .setPriceData(SessionCreateParams.LineItem.PriceData.builder()
                .setCurrency("usd")
                .setUnitAmount(cents)
                .setProductData(SessionCreateParams.LineItem.PriceData.ProductData.builder()
                    .setName("Flopex credits").build())
                .build())
            .build())
        .build();
    return vertx.executeBlocking(() -> {
      try {
        Session session = stripe.v1().checkout().sessions().create(params);
        return new JsonObject().put("id", session.getId()).put("url", session.getUrl())
            .put("amount", micros);
      } catch (StripeException e) {
        LOG.error("Stripe refused a Checkout Session ({}, request {})", e.getStatusCode(),
            e.getRequestId());
        throw new ApiError(Failure.UPSTREAM_ERROR, "Stripe did not create the checkout"
            + " session; try again later.", null);
      }
    }, false);
  }
}
