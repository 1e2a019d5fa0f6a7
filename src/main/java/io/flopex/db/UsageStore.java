package io.flopex.db;

import io.flopex.bus.AttemptRecord;
import io.flopex.bus.UsageRecord;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** Usage metadata rows in PostgreSQL. */
public final class UsageStore {

  /** All the rows of a batch in one statement: one column array per field. */
  private static final String INSERT = "INSERT INTO usage_events (id, request_id, created_at,"
      + " account_id, key_id, model, provider, upstream_model, streamed, outcome, status, attempts,"
      + " prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, tokens_estimated,"
      + " cost_micros, latency_ms, ttfb_ms, cache_write_tokens) SELECT u.id, u.request_id,"
      + " u.created_at, u.account_id, u.key_id, u.model, u.provider, u.upstream_model,"
      + " u.streamed, u.outcome, u.status, u.attempts::jsonb, u.prompt_tokens,"
      + " u.completion_tokens, u.cached_tokens, u.reasoning_tokens, u.tokens_estimated,"
      + " u.cost_micros, u.latency_ms, u.ttfb_ms, u.cache_write_tokens"
      + " FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::uuid[], $5::uuid[],"
      + " $6::text[], $7::text[], $8::text[], $9::boolean[], $10::text[], $11::integer[],"
      + " $12::text[], $13::bigint[], $14::bigint[], $15::bigint[], $16::bigint[],"
      + " $17::boolean[], $18::bigint[], $19::bigint[], $20::bigint[], $21::bigint[])"
      + " AS u (id, request_id, created_at, account_id, key_id, model, provider, upstream_model,"
      + " streamed, outcome, status, attempts, prompt_tokens, completion_tokens, cached_tokens,"
      + " reasoning_tokens, tokens_estimated, cost_micros, latency_ms, ttfb_ms,"
      + " cache_write_tokens)"
      // A request that ends after its account was erased leaves no row behind.
      + " WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = u.account_id"
      + " AND a.erased_at IS NOT NULL)"
      + " ON CONFLICT (id, created_at) DO NOTHING";

  private final Pool pool;

  public UsageStore(Pool pool) {
    this.pool = pool;
  }

  /**
   * Inserts the rows in one statement; a row already stored is skipped, so a retry is safe. If
   * the database refuses one row's data, the whole statement fails and nothing is written.
   */
  public Future<Void> insert(List<UsageRecord> records) {
    int n = records.size();
    UUID[] ids = new UUID[n];
    String[] requestIds = new String[n];
    OffsetDateTime[] createdAt = new OffsetDateTime[n];
    UUID[] accounts = new UUID[n];
    UUID[] keys = new UUID[n];
    String[] models = new String[n];
    String[] providers = new String[n];
    String[] upstreamModels = new String[n];
    Boolean[] streamed = new Boolean[n];
    String[] outcomes = new String[n];
    Integer[] statuses = new Integer[n];
    String[] attempts = new String[n];
    Long[] prompt = new Long[n];
    Long[] completion = new Long[n];
    Long[] cached = new Long[n];
    Long[] reasoning = new Long[n];
    Boolean[] estimated = new Boolean[n];
    Long[] costs = new Long[n];
    Long[] latencies = new Long[n];
    Long[] ttfbs = new Long[n];
    Long[] cacheWrites = new Long[n];
    for (int i = 0; i < n; i++) {
      UsageRecord r = records.get(i);
      JsonArray tried = new JsonArray();
      for (AttemptRecord a : r.attempts()) {
        tried.add(new JsonObject()
            .put("provider", a.provider())
            .put("upstream_model", a.upstreamModel())
            .put("outcome", a.outcome())
            .put("latency_ms", a.latencyMs()));
      }
      ids[i] = r.id();
      requestIds[i] = r.requestId();
      createdAt[i] = OffsetDateTime.ofInstant(r.createdAt(), ZoneOffset.UTC);
      accounts[i] = r.accountId();
      keys[i] = r.keyId();
      models[i] = r.model();
      providers[i] = r.provider();
      upstreamModels[i] = r.upstreamModel();
      streamed[i] = r.streamed();
      outcomes[i] = r.outcome();
      statuses[i] = r.status();
      attempts[i] = tried.encode();
      prompt[i] = r.usage().promptTokens();
      completion[i] = r.usage().completionTokens();
      cached[i] = r.usage().cachedTokens();
      reasoning[i] = r.usage().reasoningTokens();
      estimated[i] = r.usage().estimated();
      costs[i] = r.costMicros();
      latencies[i] = r.latencyMs();
      ttfbs[i] = r.ttfbMs();
      cacheWrites[i] = r.usage().cacheWriteTokens();
    }
    Tuple args = Tuple.tuple().addArrayOfUUID(ids).addArrayOfString(requestIds)
        .addArrayOfOffsetDateTime(createdAt).addArrayOfUUID(accounts).addArrayOfUUID(keys)
        .addArrayOfString(models).addArrayOfString(providers).addArrayOfString(upstreamModels)
        .addArrayOfBoolean(streamed).addArrayOfString(outcomes).addArrayOfInteger(statuses)
        .addArrayOfString(attempts).addArrayOfLong(prompt).addArrayOfLong(completion)
        .addArrayOfLong(cached).addArrayOfLong(reasoning).addArrayOfBoolean(estimated)
        .addArrayOfLong(costs).addArrayOfLong(latencies).addArrayOfLong(ttfbs)
        .addArrayOfLong(cacheWrites);
    return pool.preparedQuery(INSERT).execute(args).mapEmpty();
  }

  /** The newest rows of one account, newest first. */
  public Future<JsonArray> newest(UUID accountId, int limit) {
    return pool.preparedQuery("SELECT * FROM usage_events WHERE account_id = $1"
            + " ORDER BY created_at DESC, id LIMIT $2")
        .execute(Tuple.of(accountId, limit))
        .map(UsageStore::rows);
  }

  /** The account's usage row of one request, or null when there is none (yet). */
  public Future<JsonObject> byRequest(UUID accountId, String requestId) {
    return pool.preparedQuery("SELECT * FROM usage_events WHERE account_id = $1"
            + " AND request_id = $2 ORDER BY created_at DESC LIMIT 1")
        .execute(Tuple.of(accountId, requestId))
        .map(rows -> {
          JsonArray found = rows(rows);
          return found.isEmpty() ? null : found.getJsonObject(0);
        });
  }

  private static JsonArray rows(io.vertx.sqlclient.RowSet<Row> rows) {
    JsonArray out = new JsonArray();
    for (Row row : rows) {
      out.add(new JsonObject()
          .put("id", row.getUUID("id").toString())
          .put("request_id", row.getString("request_id"))
          .put("created_at", row.getOffsetDateTime("created_at").toString())
          .put("account_id", row.getUUID("account_id").toString())
          .put("key_id", row.getUUID("key_id").toString())
          .put("model", row.getString("model"))
          .put("provider", row.getString("provider"))
          .put("upstream_model", row.getString("upstream_model"))
          .put("streamed", row.getBoolean("streamed"))
          .put("outcome", row.getString("outcome"))
          .put("status", row.getInteger("status"))
          .put("attempts", row.getJsonArray("attempts"))
          .put("prompt_tokens", row.getLong("prompt_tokens"))
          .put("completion_tokens", row.getLong("completion_tokens"))
          .put("cached_tokens", row.getLong("cached_tokens"))
          .put("cache_write_tokens", row.getLong("cache_write_tokens"))
          .put("reasoning_tokens", row.getLong("reasoning_tokens"))
          .put("tokens_estimated", row.getBoolean("tokens_estimated"))
          .put("cost_micros", row.getLong("cost_micros"))
          .put("latency_ms", row.getLong("latency_ms"))
          .put("ttfb_ms", row.getLong("ttfb_ms")));
    }
    return out;
  }

  /** Held while one node purges, so that nodes of a cluster purge one at a time. */
  private static final long PURGE_LOCK = 0x466c6f70757267L;
  private static final java.time.format.DateTimeFormatter DAY =
      java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd");

  /**
   * Creates the day partitions from {@code from} to {@code to}, UTC, that do not exist yet. A day
   * whose rows already landed in the default partition keeps them there (the purge deletes them
   * in time) and gets no partition of its own.
   */
  public Future<Integer> ensurePartitions(java.time.LocalDate from, java.time.LocalDate to) {
    Future<Integer> chain = Future.succeededFuture(0);
    for (java.time.LocalDate day = from; !day.isAfter(to); day = day.plusDays(1)) {
      java.time.LocalDate d = day;
      chain = chain.compose(created -> pool.query("CREATE TABLE IF NOT EXISTS usage_events_p"
              + DAY.format(d) + " PARTITION OF usage_events FOR VALUES FROM ('" + d
              + " 00:00:00+00') TO ('" + d.plusDays(1) + " 00:00:00+00')").execute()
          .map(created + 1)
          .otherwise(err -> created));
    }
    return chain;
  }

  /**
   * Removes usage metadata created before {@code cutoff}: drops every day partition that lies
   * wholly before it, then deletes the older rows left in the partition of the cutoff's day and
   * in the default partition. Runs on one node at a time: a node that finds another purging
   * skips its turn. The future holds how many rows went.
   */
  public Future<Integer> purgeBefore(Instant cutoff) {
    java.time.LocalDate cutoffDay = cutoff.atZone(ZoneOffset.UTC).toLocalDate();
    return pool.withTransaction(conn -> conn
        .query("SELECT pg_try_advisory_xact_lock(" + PURGE_LOCK + ")").execute()
        .compose(locked -> {
          if (!locked.iterator().next().getBoolean(0)) {
            return Future.succeededFuture(0);
          }
          return conn.query("SELECT c.relname FROM pg_inherits i"
                  + " JOIN pg_class c ON c.oid = i.inhrelid"
                  + " WHERE i.inhparent = 'usage_events'::regclass"
                  + " AND c.relname ~ '^usage_events_p[0-9]{8}$' ORDER BY c.relname").execute()
              .compose(partitions -> {
                List<String> old = new ArrayList<>();
                for (Row row : partitions) {
                  String name = row.getString(0);
                  java.time.LocalDate day = java.time.LocalDate.parse(
                      name.substring("usage_events_p".length()), DAY);
                  if (!day.plusDays(1).isAfter(cutoffDay)) {
                    old.add(name);
                  }
                }
                return drop(conn, old, 0, 0);
              })
              .compose(dropped -> conn.preparedQuery("DELETE FROM usage_events"
                      + " WHERE created_at < $1")
                  .execute(Tuple.of(OffsetDateTime.ofInstant(cutoff, ZoneOffset.UTC)))
                  .map(rows -> dropped + rows.rowCount()))
              // Leases of nodes that stopped without giving them back no longer count.
              .compose(removed -> conn.query("DELETE FROM key_leases"
                      + " WHERE renewed_at < now() - interval '1 hour'").execute()
                  // A live key with a spending limit and no reset period is limited over its
                  // whole life: its daily spending stays.
                  .compose(v -> conn.query("DELETE FROM key_days d"
                      + " WHERE d.day < (now() AT TIME ZONE 'UTC')::date - 35"
                      + " AND NOT EXISTS (SELECT 1 FROM api_keys k WHERE k.id = d.key_id"
                      + " AND k.limit_reset IS NULL AND k.limit_micros IS NOT NULL"
                      + " AND k.revoked_at IS NULL)").execute())
                  .compose(v -> conn.query("DELETE FROM key_seconds"
                      + " WHERE second < extract(epoch FROM now()) - 3600").execute())
                  .map(removed));
        }));
  }

  private static Future<Integer> drop(io.vertx.sqlclient.SqlConnection conn, List<String> names,
      int index, int rows) {
    if (index == names.size()) {
      return Future.succeededFuture(rows);
    }
    String name = names.get(index);
    return conn.query("SELECT count(*) FROM " + name).execute()
        .compose(count -> conn.query("DROP TABLE " + name).execute()
            .map(v -> rows + count.iterator().next().getLong(0).intValue()))
        .compose(total -> drop(conn, names, index + 1, total));
  }


  /** Requests, tokens and cost per UTC day and model over the last {@code days} days. */
  public Future<io.vertx.core.json.JsonArray> totals(java.util.UUID accountId, int days) {
    return pool.preparedQuery("SELECT (created_at AT TIME ZONE 'UTC')::date AS day, model,"
            + " count(*) AS requests, sum(prompt_tokens) AS prompt_tokens,"
            + " sum(completion_tokens) AS completion_tokens, sum(cost_micros) AS cost_micros"
            + " FROM usage_events WHERE account_id = $1"
            + " AND created_at >= now() - make_interval(days => $2)"
            + " GROUP BY 1, 2 ORDER BY 1 DESC, 2")
        .execute(io.vertx.sqlclient.Tuple.of(accountId, days))
        .map(rows -> {
          io.vertx.core.json.JsonArray totals = new io.vertx.core.json.JsonArray();
          for (io.vertx.sqlclient.Row row : rows) {
            totals.add(new io.vertx.core.json.JsonObject()
                .put("day", row.getLocalDate("day").toString())
                .put("model", row.getString("model"))
                .put("requests", row.getLong("requests"))
                .put("prompt_tokens", row.getNumeric("prompt_tokens").longValue())
                .put("completion_tokens", row.getNumeric("completion_tokens").longValue())
                .put("cost_micros", row.getNumeric("cost_micros").longValue()));
          }
          return totals;
        });
  }
}
