package io.flopex.db;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.streams.WriteStream;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowStream;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.List;
import java.util.UUID;

/**
 * Everything Flopex holds about one account, for its holder: exported as one JSON document,
 * streamed from database cursors so that a large account never sits in memory; and erased on
 * request, keeping only the ledger rows the law requires, tied to nothing but a random id.
 */
public final class AccountData {

  private static final int FETCH = 200;

  /** The sections of an export, each a query whose rows become JSON objects. */
  private record Section(String name, String sql) {}

  private static final List<Section> SECTIONS = List.of(
      new Section("keys", "SELECT id, name, prefix, created_at, revoked_at, limit_micros,"
          + " limit_reset, rpm, tpm, max_concurrent, expires_at, allowed_models FROM api_keys"
          + " WHERE account_id = $1 ORDER BY created_at, id"),
      new Section("management_keys", "SELECT id, prefix, created_at, revoked_at"
          + " FROM management_keys WHERE account_id = $1 ORDER BY created_at, id"),
      new Section("ledger", "SELECT id, created_at, kind, amount_micros, request_id, external_id,"
          + " reason FROM ledger WHERE account_id = $1 ORDER BY id"),
      new Section("stripe_payments", "SELECT payment_intent, checkout_session, amount_cents,"
          + " refunded_cents, disputed_cents, created_at FROM stripe_payments"
          + " WHERE account_id = $1 ORDER BY created_at"),
      new Section("key_limit_leases", "SELECT l.key_id, l.node, l.in_flight,"
          + " l.in_flight_tokens, l.in_flight_micros, l.spare_slots, l.spare_tokens,"
          + " l.spare_micros, l.spare_until, l.renewed_at FROM key_leases l"
          + " JOIN api_keys k ON k.id = l.key_id WHERE k.account_id = $1"
          + " ORDER BY l.key_id, l.node"),
      new Section("key_limit_seconds", "SELECT s.key_id, s.second, s.started, s.finished,"
          + " s.tokens FROM key_seconds s JOIN api_keys k ON k.id = s.key_id"
          + " WHERE k.account_id = $1 ORDER BY s.key_id, s.second"),
      new Section("key_limit_days", "SELECT d.key_id, d.day, d.cost_micros FROM key_days d"
          + " JOIN api_keys k ON k.id = d.key_id WHERE k.account_id = $1"
          + " ORDER BY d.key_id, d.day"),
      new Section("reservations", "SELECT id, created_at, amount_micros, request_id"
          + " FROM reservations WHERE account_id = $1 ORDER BY created_at, id"),
      new Section("usage", "SELECT id, request_id, created_at, key_id, model, provider,"
          + " upstream_model, streamed, outcome, status, attempts, prompt_tokens,"
          + " completion_tokens, cached_tokens, cache_write_tokens, reasoning_tokens,"
          + " tokens_estimated, cost_micros, latency_ms, ttfb_ms FROM usage_events"
          + " WHERE account_id = $1 ORDER BY created_at, id"));

  private final Pool pool;

  public AccountData(Pool pool) {
    this.pool = pool;
  }

  /**
   * Writes the export to {@code out} as one JSON object: {@code account}, then one array per
   * section. Rows are fetched {@value #FETCH} at a time and the cursor pauses while {@code out}
   * cannot take more. The future fails if the account does not exist (before anything is
   * written) or if the database fails midway (the document is then cut short).
   */
  public Future<Void> export(UUID accountId, WriteStream<Buffer> out,
      java.util.function.Consumer<JsonObject> onAccount) {
    return pool.withTransaction(conn -> conn.preparedQuery("SELECT id, email, created_at,"
            + " balance_micros, reserved_micros, erased_at FROM accounts WHERE id = $1")
        .execute(Tuple.of(accountId))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.failedFuture(new java.util.NoSuchElementException("no such account"));
          }
          JsonObject account = json(rows.iterator().next());
          onAccount.accept(account);
          Future<Void> chain = out.write(Buffer.buffer("{\"account\":" + account.encode()));
          for (Section section : SECTIONS) {
            chain = chain.compose(v -> section(conn, section, accountId, out));
          }
          return chain.compose(v -> out.write(Buffer.buffer("}\n")));
        }));
  }

  private static Future<Void> section(SqlConnection conn, Section section, UUID accountId,
      WriteStream<Buffer> out) {
    return out.write(Buffer.buffer(",\"" + section.name() + "\":["))
        .compose(v -> conn.prepare(section.sql()))
        .compose(statement -> {
          Promise<Void> done = Promise.promise();
          RowStream<Row> rows = statement.createStream(FETCH, Tuple.of(accountId));
          boolean[] first = {true};
          rows.exceptionHandler(done::tryFail);
          rows.endHandler(v -> done.tryComplete());
          rows.handler(row -> {
            Buffer piece = Buffer.buffer(first[0] ? "" : ",").appendString(json(row).encode());
            first[0] = false;
            out.write(piece);
            if (out.writeQueueFull()) {
              rows.pause();
              out.drainHandler(d -> rows.resume());
            }
          });
          return done.future().eventually(() -> rows.close().otherwiseEmpty())
              .compose(v -> statement.close().otherwiseEmpty());
        })
        .compose(v -> out.write(Buffer.buffer("]")));
  }

  private static JsonObject json(Row row) {
    JsonObject json = new JsonObject();
    for (int i = 0; i < row.size(); i++) {
      Object value = row.getValue(i);
      String name = row.getColumnName(i);
      if (value instanceof UUID || value instanceof java.time.temporal.Temporal) {
        json.put(name, value.toString());
      } else if (value instanceof String[] strings) {
        json.put(name, new JsonArray(List.of(strings)));
      } else {
        json.put(name, value);
      }
    }
    return json;
  }

  /**
   * Erases the account: revokes every key, removes the email and key names, deletes its usage
   * metadata and limit counts, and marks it erased. The ledger and Stripe payment records stay
   * for the law, linked only to the account's random id. False when there is no such account
   * or it was erased already.
   */
  public Future<Boolean> erase(UUID accountId) {
    return pool.withTransaction(conn -> conn.preparedQuery("UPDATE accounts SET email = '',"
            + " erased_at = now() WHERE id = $1 AND erased_at IS NULL RETURNING id")
        .execute(Tuple.of(accountId))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.succeededFuture(false);
          }
          Tuple id = Tuple.of(accountId);
          return conn.preparedQuery("UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()),"
                  + " name = 'erased' WHERE account_id = $1").execute(id)
              .compose(v -> conn.preparedQuery("UPDATE management_keys SET revoked_at ="
                  + " coalesce(revoked_at, now()) WHERE account_id = $1").execute(id))
              .compose(v -> conn.preparedQuery("DELETE FROM key_leases WHERE key_id IN"
                  + " (SELECT id FROM api_keys WHERE account_id = $1)").execute(id))
              .compose(v -> conn.preparedQuery("DELETE FROM key_seconds WHERE key_id IN"
                  + " (SELECT id FROM api_keys WHERE account_id = $1)").execute(id))
              .compose(v -> conn.preparedQuery("DELETE FROM key_days WHERE key_id IN"
                  + " (SELECT id FROM api_keys WHERE account_id = $1)").execute(id))
              .compose(v -> conn.preparedQuery("DELETE FROM usage_events WHERE account_id = $1")
                  .execute(id))
              // Request ids are chosen by the client and may say something about the person:
              // the ledger and reservations the law keeps no longer carry them.
              .compose(v -> conn.preparedQuery("UPDATE ledger SET request_id = NULL"
                  + " WHERE account_id = $1 AND request_id IS NOT NULL").execute(id))
              .compose(v -> conn.preparedQuery("UPDATE reservations SET request_id = ''"
                  + " WHERE account_id = $1").execute(id))
              .map(true);
        }));
  }
}
