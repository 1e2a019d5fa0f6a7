package io.flopex.db;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * The prepaid wallet of each account, in PostgreSQL, in integer micro-USD.
 *
 * <p>Every change is one SQL statement, so it is atomic on its own and exact across any number
 * of nodes: the account's row is locked by the statement that changes it, and concurrent
 * requests for the same account queue behind each other for as long as it takes. On one node,
 * the holds of an account that arrive while one is being made go together in the next statement
 * ({@code flopex_reserve}), which decides them one after the other; settlements go together the
 * same way ({@code flopex_settle}). A busy account then costs one commit per batch.
 *
 * <ul>
 *   <li>{@link #reserve} sets aside a request's worst-case cost if the balance, less what other
 *       requests in flight have set aside, covers it.
 *   <li>{@link #settle} turns a reservation into a charge of the real cost, once, or releases it
 *       when nothing was billable.
 *   <li>{@link #credit} records a top-up, refund, dispute or manual adjustment.
 * </ul>
 *
 * The balance and the ledger change in the same statement, so they always agree.
 */
public final class Wallet {

  /** A ledger entry's kind, as stored. */
  public enum Kind {
    TOP_UP("top_up"),
    CHARGE("charge"),
    REFUND("refund"),
    DISPUTE("dispute"),
    ADJUSTMENT("adjustment"),
    /** The sum of older entries past the retention period, which it replaces. */
    CARRIED_FORWARD("carried_forward");

    private final String stored;

    Kind(String stored) {
      this.stored = stored;
    }

    public String stored() {
      return stored;
    }
  }

  /** The most holds of one account, or settlements, sent in one call. */
  private static final int MAX_BATCH = 256;

  private final Pool pool;
  private final Batcher<UUID, Hold, Boolean> holds;
  private final Batcher<Boolean, Settlement, Boolean> settlements;

  public Wallet(Pool pool) {
    this.pool = pool;
    this.holds = new Batcher<>(MAX_BATCH, this::reserveAll);
    this.settlements = new Batcher<>(MAX_BATCH, (all, batch) -> settleAll(batch));
  }

  /**
   * Sets aside {@code amountMicros} for a request.
   *
   * @return the reservation's id, or null when the account's balance does not cover it
   */
  public Future<UUID> reserve(UUID accountId, long amountMicros, String requestId) {
    UUID id = TimeOrderedIds.next();
    return holds.submit(accountId, new Hold(id, amountMicros, requestId))
        .map(held -> held ? id : null);
  }

  private record Hold(UUID id, long amountMicros, String requestId) {}

  /** One call of {@code flopex_reserve} for holds of one account, decided in their order. */
  private Future<List<Boolean>> reserveAll(UUID accountId, List<Hold> batch) {
    int n = batch.size();
    UUID[] ids = new UUID[n];
    Long[] amounts = new Long[n];
    String[] requestIds = new String[n];
    for (int i = 0; i < n; i++) {
      ids[i] = batch.get(i).id();
      amounts[i] = batch.get(i).amountMicros();
      requestIds[i] = batch.get(i).requestId();
    }
    return pool.preparedQuery("SELECT ord, held FROM flopex_reserve($1, $2, $3, $4)")
        .execute(Tuple.of(accountId, ids, amounts, requestIds))
        .map(rows -> outcomes(rows, n));
  }

  /**
   * Ends a reservation: releases what it set aside, if it is still held, and charges
   * {@code costMicros} (0 charges nothing). The charge names the reservation, so settling the
   * same reservation again charges nothing more, and a reservation released early (its request
   * ran longer than the reservation timeout) is still charged.
   *
   * @return whether this call made the charge or released the reservation
   */
  public Future<Boolean> settle(UUID reservationId, UUID accountId, long costMicros,
      String requestId) {
    return settlements.submit(Boolean.TRUE,
        new Settlement(reservationId, accountId, costMicros, requestId));
  }

  private record Settlement(UUID reservationId, UUID accountId, long costMicros,
      String requestId) {}

  private Future<List<Boolean>> settleAll(List<Settlement> batch) {
    int n = batch.size();
    UUID[] ids = new UUID[n];
    UUID[] accounts = new UUID[n];
    Long[] costs = new Long[n];
    String[] requestIds = new String[n];
    for (int i = 0; i < n; i++) {
      Settlement s = batch.get(i);
      ids[i] = s.reservationId();
      accounts[i] = s.accountId();
      costs[i] = s.costMicros();
      requestIds[i] = s.requestId();
    }
    return pool.preparedQuery("SELECT ord, settled FROM flopex_settle($1, $2, $3, $4)")
        .execute(Tuple.of(ids, accounts, costs, requestIds))
        .map(rows -> outcomes(rows, n));
  }

  /** The boolean of each item, by its place ({@code ord}, from 1) in the batch. */
  private static List<Boolean> outcomes(RowSet<Row> rows, int n) {
    Boolean[] out = new Boolean[n];
    for (Row row : rows) {
      out[row.getInteger(0) - 1] = row.getBoolean(1);
    }
    for (Boolean b : out) {
      if (b == null) {
        throw new IllegalStateException("the wallet statement answered for fewer items than it"
            + " was sent");
      }
    }
    return Arrays.asList(out);
  }

  /**
   * Adds a ledger entry and moves the balance by {@code amountMicros} (negative to take).
   *
   * @return the new balance, or null when the account does not exist
   */
  public Future<Long> credit(UUID accountId, Kind kind, long amountMicros, String externalId,
      String reason) {
    return pool.preparedQuery("WITH account AS ("
            + " UPDATE accounts SET balance_micros = balance_micros + $3 WHERE id = $1"
            + " RETURNING id, balance_micros),"
            + " entry AS (INSERT INTO ledger (account_id, kind, amount_micros, external_id, reason)"
            + " SELECT id, $2, $3, $4, $5 FROM account RETURNING id)"
            + " SELECT balance_micros FROM account")
        .execute(Tuple.of(accountId, kind.stored(), amountMicros, externalId, reason))
        .map(rows -> rows.size() == 1 ? rows.iterator().next().getLong(0) : null);
  }

  /** The account's balance and what is reserved, or null when it does not exist. */
  public Future<JsonObject> balance(UUID accountId) {
    return pool.preparedQuery("SELECT id, email, balance_micros, reserved_micros FROM accounts"
            + " WHERE id = $1")
        .execute(Tuple.of(accountId))
        .map(Wallet::first)
        .map(row -> row == null ? null : new JsonObject()
            .put("id", row.getUUID("id").toString())
            .put("email", row.getString("email"))
            .put("balance_micros", row.getLong("balance_micros"))
            .put("reserved_micros", row.getLong("reserved_micros")));
  }

  /**
   * Releases reservations older than {@code olderThanSeconds}: their request can no longer be
   * running (a node stopped without settling them). Nothing is charged for them.
   *
   * @return how many were released
   */
  public Future<Integer> sweep(long olderThanSeconds) {
    return pool.preparedQuery("WITH stale AS ("
            + " DELETE FROM reservations WHERE created_at < now() - make_interval(secs => $1)"
            + " RETURNING account_id, amount_micros),"
            + " total AS (SELECT account_id, sum(amount_micros) AS amount, count(*) AS n"
            + " FROM stale GROUP BY account_id),"
            + " released AS (UPDATE accounts SET reserved_micros = reserved_micros - total.amount"
            + " FROM total WHERE accounts.id = total.account_id RETURNING total.n)"
            + " SELECT coalesce(sum(n), 0) FROM released")
        .execute(Tuple.of((double) olderThanSeconds))
        .map(rows -> rows.iterator().next().getLong(0).intValue());
  }

  /**
   * A page of the account's ledger, newest first: at most {@code limit} entries older than the
   * entry {@code before} (0: from the newest).
   */
  public Future<io.vertx.core.json.JsonArray> ledger(UUID accountId, int limit, long before) {
    return pool.preparedQuery("SELECT id, created_at, kind, amount_micros, request_id,"
            + " external_id, reason FROM ledger WHERE account_id = $1 AND ($2 = 0 OR id < $2)"
            + " ORDER BY id DESC LIMIT $3")
        .execute(Tuple.of(accountId, before, limit))
        .map(rows -> {
          io.vertx.core.json.JsonArray entries = new io.vertx.core.json.JsonArray();
          for (Row row : rows) {
            entries.add(new JsonObject()
                .put("id", row.getLong("id"))
                .put("created_at", row.getOffsetDateTime("created_at").toString())
                .put("kind", row.getString("kind"))
                .put("amount_micros", row.getLong("amount_micros"))
                .put("request_id", row.getString("request_id"))
                .put("external_id", row.getString("external_id"))
                .put("reason", row.getString("reason")));
          }
          return entries;
        });
  }

  private static Row first(RowSet<Row> rows) {
    return rows.size() == 0 ? null : rows.iterator().next();
  }
}
