package io.flopex.db;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;

/**
 * The retention of billing records: ledger entries, Stripe events and Stripe payments, kept
 * for a period of their own, longer than usage metadata.
 *
 * <p>The ledger stays the account's history of money: the balance is always the sum of its
 * entries. So the entries of an account that pass the retention period are not simply deleted;
 * in the same statement they are replaced by one {@code carried_forward} entry holding their
 * sum, with the id and the time of the newest of them, so that the ledger still pages in the
 * same order. An account's carried entry is only rewritten when more of its entries age out.
 */
public final class BillingRecords {

  /** Held while one node purges billing records, so that a cluster purges them once. */
  private static final long PURGE_LOCK = 0x466c6f626c6c67L;

  private final Pool pool;

  public BillingRecords(Pool pool) {
    this.pool = pool;
  }

  /** What one purge removed. */
  public record Purged(int ledgerEntries, int accounts, int stripeEvents, int stripePayments) {

    public static final Purged NOTHING = new Purged(0, 0, 0, 0);

    public boolean any() {
      return ledgerEntries + stripeEvents + stripePayments > 0;
    }
  }

  /**
   * Folds every account's ledger entries created before {@code cutoff} into one carried-forward
   * entry, and deletes Stripe events and payments recorded before it. Runs on one node at a
   * time: a node that finds another purging skips its turn.
   */
  public Future<Purged> purgeBefore(Instant cutoff) {
    Tuple before = Tuple.of(OffsetDateTime.ofInstant(cutoff, ZoneOffset.UTC));
    return pool.withTransaction(conn -> conn
        .query("SELECT pg_try_advisory_xact_lock(" + PURGE_LOCK + ")").execute()
        .compose(locked -> locked.iterator().next().getBoolean(0)
            ? purge(conn, before)
            : Future.succeededFuture(Purged.NOTHING)));
  }

  private static Future<Purged> purge(SqlConnection conn, Tuple before) {
    return conn.preparedQuery("WITH due AS ("
            + " SELECT DISTINCT account_id FROM ledger"
            + " WHERE created_at < $1 AND kind <> 'carried_forward'),"
            + " old AS (DELETE FROM ledger USING due WHERE ledger.account_id = due.account_id"
            + " AND ledger.created_at < $1"
            + " RETURNING ledger.id, ledger.account_id, ledger.amount_micros, ledger.created_at),"
            + " summed AS (SELECT account_id, sum(amount_micros)::bigint AS total,"
            + " max(id) AS last_id, max(created_at) AS last_at, count(*) AS n"
            + " FROM old GROUP BY account_id),"
            + " carried AS (INSERT INTO ledger (id, account_id, created_at, kind, amount_micros,"
            + " reason) SELECT last_id, account_id, last_at, 'carried_forward', total,"
            + " 'sum of the entries up to this one, past the retention period' FROM summed"
            + " RETURNING id)"
            + " SELECT coalesce(sum(n), 0)::int AS entries, count(*)::int AS accounts,"
            + " (SELECT count(*) FROM carried)::int AS written FROM summed")
        .execute(before)
        .compose(ledger -> {
          var row = ledger.iterator().next();
          int entries = row.getInteger("entries");
          int accounts = row.getInteger("accounts");
          return conn.preparedQuery("DELETE FROM stripe_events WHERE received_at < $1")
              .execute(before)
              .compose(events -> conn.preparedQuery("DELETE FROM stripe_payments"
                      + " WHERE created_at < $1").execute(before)
                  .map(payments -> new Purged(entries - accounts, accounts,
                      events.rowCount(), payments.rowCount())));
        });
  }
}
