package io.flopex.db;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.UUID;

/**
 * What Stripe's webhook events do to wallets, each in one transaction with the record that the
 * event was handled, so that an event takes effect exactly once whatever Stripe redelivers.
 * Amounts arrive in cents and are kept in micro-USD (a cent is 10,000).
 */
public final class StripeStore {

  public static final long MICROS_PER_CENT = 10_000;

  /** What handling an event came to. */
  public enum Outcome {
    /** The wallet changed. */
    APPLIED,
    /** This event id was handled before; nothing changed now. */
    DUPLICATE,
    /** Recorded, with nothing to do (e.g. a payment credited by an earlier event). */
    IGNORED,
    /** Recorded, but it names an account Flopex does not have: for an operator to look at. */
    UNMATCHED,
    /** Not recorded: it refers to a payment Flopex has not seen yet; Stripe should redeliver. */
    UNKNOWN_PAYMENT
  }

  private final Pool pool;

  public StripeStore(Pool pool) {
    this.pool = pool;
  }

  /** A paid Checkout Session: credits the account its {@code client_reference_id} names. */
  public Future<Outcome> checkoutCompleted(String eventId, String type, String sessionId,
      String paymentIntent, UUID accountId, long amountCents) {
    return pool.withTransaction(conn -> firstTime(conn, eventId, type)
        .compose(first -> {
          if (!first) {
            return Future.succeededFuture(Outcome.DUPLICATE);
          }
          return conn.preparedQuery("SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE")
              .execute(Tuple.of(accountId))
              .compose(found -> {
                if (found.size() == 0) {
                  return mark(conn, eventId, Outcome.UNMATCHED);
                }
                return conn.preparedQuery("INSERT INTO stripe_payments (payment_intent,"
                        + " account_id, checkout_session, amount_cents) VALUES ($1, $2, $3, $4)"
                        + " ON CONFLICT DO NOTHING RETURNING payment_intent")
                    .execute(Tuple.of(paymentIntent, accountId, sessionId, amountCents))
                    .compose(inserted -> inserted.size() == 0
                        ? mark(conn, eventId, Outcome.IGNORED)
                        : move(conn, accountId, "top_up", amountCents * MICROS_PER_CENT,
                            sessionId, "Stripe Checkout " + sessionId)
                            .map(Outcome.APPLIED));
              });
        }));
  }

  /**
   * A charge refunded, in part or in full: takes from the wallet what was refunded since the
   * last refund event of the same payment ({@code refundedCents} is Stripe's running total).
   */
  public Future<Outcome> refunded(String eventId, String paymentIntent, String chargeId,
      long refundedCents) {
    return reverse(eventId, "charge.refunded", paymentIntent, chargeId, refundedCents,
        "refunded_cents", "refund");
  }

  /** A payment disputed: takes the disputed amount from the wallet. */
  public Future<Outcome> disputed(String eventId, String paymentIntent, String disputeId,
      long disputedCents) {
    return reverse(eventId, "charge.dispute.created", paymentIntent, disputeId, disputedCents,
        "disputed_cents", "dispute");
  }

  private Future<Outcome> reverse(String eventId, String type, String paymentIntent,
      String externalId, long totalCents, String column, String kind) {
    return pool.withTransaction(conn -> conn.preparedQuery("SELECT account_id, " + column
            + " FROM stripe_payments WHERE payment_intent = $1 FOR UPDATE")
        .execute(Tuple.of(paymentIntent))
        .compose(payments -> {
          if (payments.size() == 0) {
            return Future.succeededFuture(Outcome.UNKNOWN_PAYMENT);
          }
          Row payment = payments.iterator().next();
          UUID account = payment.getUUID(0);
          long before = payment.getLong(1);
          return firstTime(conn, eventId, type).compose(first -> {
            if (!first) {
              return Future.succeededFuture(Outcome.DUPLICATE);
            }
            long newCents = totalCents - before;
            if (newCents <= 0) {
              return mark(conn, eventId, Outcome.IGNORED);
            }
            return conn.preparedQuery("UPDATE stripe_payments SET " + column + " = $2"
                    + " WHERE payment_intent = $1")
                .execute(Tuple.of(paymentIntent, totalCents))
                .compose(v -> move(conn, account, kind, -newCents * MICROS_PER_CENT, externalId,
                    "Stripe " + kind + " " + externalId))
                .map(Outcome.APPLIED);
          });
        }));
  }

  /** Records that an event was handled; false when it already was. */
  private static Future<Boolean> firstTime(SqlConnection conn, String eventId, String type) {
    return conn.preparedQuery("INSERT INTO stripe_events (id, type, outcome)"
            + " VALUES ($1, $2, 'applied') ON CONFLICT DO NOTHING RETURNING id")
        .execute(Tuple.of(eventId, type))
        .map(rows -> rows.size() == 1);
  }

  /** Records an event Flopex has no use for, so that redeliveries are answered alike. */
  public Future<Outcome> ignore(String eventId, String type) {
    return pool.withTransaction(conn -> firstTime(conn, eventId, type)
        .compose(first -> first ? mark(conn, eventId, Outcome.IGNORED)
            : Future.succeededFuture(Outcome.DUPLICATE)));
  }

  private static Future<Outcome> mark(SqlConnection conn, String eventId, Outcome outcome) {
    return conn.preparedQuery("UPDATE stripe_events SET outcome = $2 WHERE id = $1")
        .execute(Tuple.of(eventId, outcome.name().toLowerCase(java.util.Locale.ROOT)))
        .map(outcome);
  }

  private static Future<Void> move(SqlConnection conn, UUID account, String kind, long micros,
      String externalId, String reason) {
    return conn.preparedQuery("WITH moved AS (UPDATE accounts SET balance_micros ="
            + " balance_micros + $3 WHERE id = $1 RETURNING id)"
            + " INSERT INTO ledger (account_id, kind, amount_micros, external_id, reason)"
            + " SELECT id, $2, $3, $4, $5 FROM moved")
        .execute(Tuple.of(account, kind, micros, externalId, reason))
        .mapEmpty();
  }
}
