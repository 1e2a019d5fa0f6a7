package io.flopex.db;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.UUID;

/**
 * Counts the requests of keys with limits in PostgreSQL, so that a limit holds across every node
 * at once: requests in any 60 seconds ({@code rpm}), tokens of requests that ended in any 60
 * seconds ({@code tpm}), requests in flight ({@code max_concurrent}) and spending in the current
 * period ({@code limit_micros}).
 *
 * <p>Admission runs in one transaction that first locks the key's row, so the admissions of one
 * key queue behind each other on every node; each then counts what the ones before it left.
 * A request that began more than {@link #STALE_MINUTES} minutes ago and never ended belonged to
 * a node that stopped: it no longer counts as in flight.
 */
public final class KeyCounters {

  static final int STALE_MINUTES = 15;

  /** Which limit refused a request. */
  public enum Refusal {
    REQUESTS,
    TOKENS,
    CONCURRENCY,
    CREDIT
  }

  /**
   * What admission decided, and what the rate-limit headers report: limits (0 when none),
   * what is left, and milliseconds until that frees up.
   */
  public record Admission(
      UUID id,
      Refusal refusal,
      long retryAfterMs,
      long rpm,
      long remainingRequests,
      long resetRequestsMs,
      long tpm,
      long remainingTokens,
      long resetTokensMs) {

    public boolean admitted() {
      return refusal == null;
    }
  }

  private final Pool pool;

  public KeyCounters(Pool pool) {
    this.pool = pool;
  }

  /**
   * Admits a request of this key if all of its limits allow it, recording it as in flight.
   *
   * @param tokenEstimate the tokens the request may use when it sets an output limit, or -1 to
   *     expect what the key's requests of the last minute used on average, or, without any,
   *     {@code defaultEstimate}
   * @param worstCaseMicros its worst-case cost, held against the key's spending limit
   */
  public Future<Admission> admit(UUID keyId, long tokenEstimate, long defaultEstimate,
      long worstCaseMicros) {
    UUID id = UUID.randomUUID();
    return pool.withTransaction(conn -> conn.preparedQuery("SELECT rpm, tpm, max_concurrent,"
                + " limit_micros, limit_reset FROM api_keys WHERE id = $1 FOR UPDATE")
            .execute(Tuple.of(keyId))
            .compose(keys -> {
              Row key = keys.iterator().next();
              return conn.preparedQuery("SELECT"
                      + " count(*) FILTER (WHERE started_at > now() - interval '60 seconds'),"
                      + " coalesce(sum(tokens) FILTER"
                      + " (WHERE finished_at > now() - interval '60 seconds'), 0),"
                      + " count(*) FILTER (WHERE finished_at > now() - interval '60 seconds'),"
                      + " count(*) FILTER (WHERE finished_at IS NULL"
                      + " AND started_at > now() - make_interval(mins => $2)),"
                      + " coalesce(extract(epoch FROM min(started_at) FILTER"
                      + " (WHERE started_at > now() - interval '60 seconds') + interval"
                      + " '60 seconds' - now()) * 1000, 0)::bigint,"
                      + " coalesce(extract(epoch FROM min(finished_at) FILTER"
                      + " (WHERE finished_at > now() - interval '60 seconds') + interval"
                      + " '60 seconds' - now()) * 1000, 0)::bigint,"
                      + " coalesce(sum(CASE WHEN finished_at IS NULL THEN reserved_micros"
                      + " ELSE cost_micros END) FILTER (WHERE started_at >= CASE $3"
                      + " WHEN 'daily' THEN date_trunc('day', now() AT TIME ZONE 'UTC')"
                      + " AT TIME ZONE 'UTC'"
                      + " WHEN 'weekly' THEN date_trunc('week', now() AT TIME ZONE 'UTC')"
                      + " AT TIME ZONE 'UTC'"
                      + " WHEN 'monthly' THEN date_trunc('month', now() AT TIME ZONE 'UTC')"
                      + " AT TIME ZONE 'UTC'"
                      + " ELSE '-infinity'::timestamptz END), 0)::bigint,"
                      + " coalesce(extract(epoch FROM (CASE $3"
                      + " WHEN 'daily' THEN date_trunc('day', now() AT TIME ZONE 'UTC')"
                      + " + interval '1 day'"
                      + " WHEN 'weekly' THEN date_trunc('week', now() AT TIME ZONE 'UTC')"
                      + " + interval '1 week'"
                      + " WHEN 'monthly' THEN date_trunc('month', now() AT TIME ZONE 'UTC')"
                      + " + interval '1 month' END) AT TIME ZONE 'UTC' - now()) * 1000, 0)::bigint,"
                      + " coalesce(sum(estimated_tokens) FILTER (WHERE finished_at IS NULL"
                      + " AND started_at > now() - make_interval(mins => $2)), 0)::bigint"
                      + " FROM key_requests WHERE key_id = $1"
                      + " AND (started_at > now() - interval '35 days')")
                  .execute(Tuple.of(keyId, STALE_MINUTES, key.getString("limit_reset")))
                  .compose(stats -> decide(conn, id, keyId, key, stats.iterator().next(),
                      tokenEstimate, defaultEstimate, worstCaseMicros));
            }));
  }

  private static Future<Admission> decide(io.vertx.sqlclient.SqlConnection conn, UUID id,
      UUID keyId, Row key, Row stats, long tokenEstimate, long defaultEstimate,
      long worstCaseMicros) {
    long recent = stats.getLong(0);
    long tokens = stats.getLong(1);
    long finished = stats.getLong(2);
    long inFlight = stats.getLong(3);
    long requestsFreeMs = Math.max(0, stats.getLong(4));
    long tokensFreeMs = Math.max(0, stats.getLong(5));
    long spent = stats.getLong(6);
    long periodEndsMs = Math.max(0, stats.getLong(7));
    long inFlightTokens = stats.getLong(8);
    Integer rpm = key.getInteger("rpm");
    Long tpm = key.getLong("tpm");
    Integer maxConcurrent = key.getInteger("max_concurrent");
    Long limitMicros = key.getLong("limit_micros");
    long expected = tokenEstimate >= 0 ? tokenEstimate
        : finished > 0 ? tokens / finished : defaultEstimate;
    // A quiet minute lets one request through whatever it may use; after that, what finished,
    // what is in flight and what this one may use must fit.
    boolean quiet = tokens == 0 && inFlight == 0;
    Refusal refusal = null;
    long retryAfter = 0;
    if (rpm != null && recent >= rpm) {
      refusal = Refusal.REQUESTS;
      retryAfter = Math.max(requestsFreeMs, 1);
    } else if (tpm != null && !quiet && tokens + inFlightTokens + expected > tpm) {
      refusal = Refusal.TOKENS;
      retryAfter = Math.max(tokensFreeMs, 1);
    } else if (maxConcurrent != null && inFlight >= maxConcurrent) {
      refusal = Refusal.CONCURRENCY;
      retryAfter = 1_000;
    } else if (limitMicros != null && spent + worstCaseMicros > limitMicros) {
      refusal = Refusal.CREDIT;
      retryAfter = periodEndsMs;
    }
    long rpmLimit = rpm == null ? 0 : rpm;
    long tpmLimit = tpm == null ? 0 : tpm;
    long admittedNow = refusal == null ? 1 : 0;
    Admission admission = new Admission(refusal == null ? id : null, refusal, retryAfter,
        rpmLimit, Math.max(0, rpmLimit - recent - admittedNow),
        requestsFreeMs == 0 && admittedNow == 1 ? 60_000 : requestsFreeMs,
        tpmLimit, Math.max(0, tpmLimit - tokens - inFlightTokens), tokensFreeMs);
    if (refusal != null) {
      return Future.succeededFuture(admission);
    }
    return conn.preparedQuery("INSERT INTO key_requests (id, key_id, reserved_micros,"
            + " estimated_tokens) VALUES ($1, $2, $3, $4)")
        .execute(Tuple.of(id, keyId, worstCaseMicros, expected))
        .map(admission);
  }

  /** Records how a request ended: its tokens and cost now count, and it is no longer in flight. */
  public Future<Void> finish(UUID id, long tokens, long costMicros) {
    return pool.preparedQuery("UPDATE key_requests SET finished_at = now(), tokens = $2,"
            + " cost_micros = $3 WHERE id = $1 AND finished_at IS NULL")
        .execute(Tuple.of(id, tokens, costMicros))
        .mapEmpty();
  }

  /** Forgets a request that was admitted but never sent (the wallet refused it). */
  public Future<Void> forget(UUID id) {
    return pool.preparedQuery("DELETE FROM key_requests WHERE id = $1")
        .execute(Tuple.of(id))
        .mapEmpty();
  }
}
