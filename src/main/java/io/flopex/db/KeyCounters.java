package io.flopex.db;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * Counts the requests of keys with limits in PostgreSQL, so that a limit holds across every node
 * at once: requests begun in the last 60 seconds ({@code rpm}), tokens of requests that ended in
 * the last 60 seconds ({@code tpm}), requests in flight ({@code max_concurrent}) and spending in
 * the current period ({@code limit_micros}). The counts are kept per key and second and per key
 * and day (tables {@code key_seconds} and {@code key_days}), so an admission reads at most 60
 * and 31 rows plus the requests in flight, however many requests the key makes.
 *
 * <p>Admission is one statement, the database function {@code flopex_admit}, that first locks
 * the key's row, so the admissions of one key queue behind each other on every node; each then
 * counts what the ones before it left. The row is held only while that statement runs. On one
 * node, a key has at most one admission call running: the key's requests that arrive meanwhile
 * wait and go together in the next call, which decides them one after the other, so a busy key
 * costs the database one call per round trip rather than one lock wait per request.
 *
 * <p>The pool given here should commit without waiting for the disk (see
 * {@link Database#relaxedPool}): these are counts, not money, and a synchronous commit would
 * hold each key's row for a disk flush.
 *
 * <p>A request that began more than {@link #STALE_MINUTES} minutes ago and never ended belonged to
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

  /** The most requests of one key admitted in one call. */
  private static final int MAX_BATCH = 256;

  private final Pool pool;
  private final Batcher<UUID, Asked, Admission> admissions;
  private final Batcher<Boolean, Ended, Void> endings;

  public KeyCounters(Pool pool) {
    this.pool = pool;
    this.admissions = new Batcher<>(MAX_BATCH, this::admitAll);
    this.endings = new Batcher<>(MAX_BATCH, (all, batch) -> finishAll(batch));
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
    return admissions.submit(keyId,
        new Asked(UUID.randomUUID(), tokenEstimate, defaultEstimate, worstCaseMicros));
  }

  /** One request of a key asking to be admitted. */
  private record Asked(UUID id, long tokenEstimate, long defaultEstimate, long worstCaseMicros) {}

  /** One call of {@code flopex_admit} for requests of one key, decided in their order. */
  private Future<List<Admission>> admitAll(UUID keyId, List<Asked> batch) {
    int n = batch.size();
    UUID[] ids = new UUID[n];
    Long[] estimates = new Long[n];
    Long[] defaults = new Long[n];
    Long[] worst = new Long[n];
    for (int i = 0; i < n; i++) {
      Asked asked = batch.get(i);
      ids[i] = asked.id();
      estimates[i] = asked.tokenEstimate();
      defaults[i] = asked.defaultEstimate();
      worst[i] = asked.worstCaseMicros();
    }
    return pool.preparedQuery("SELECT * FROM flopex_admit($1, $2, $3, $4, $5, $6)")
        .execute(Tuple.of(keyId, ids, STALE_MINUTES, estimates, defaults, worst))
        .map(rows -> {
          Admission[] out = new Admission[n];
          for (Row row : rows) {
            int i = row.getInteger("ord") - 1;
            out[i] = admission(ids[i], row);
          }
          return Arrays.asList(out);
        });
  }

  private static Admission admission(UUID id, Row row) {
    String refused = row.getString("refusal");
    Refusal refusal = refused == null ? null : Refusal.valueOf(refused);
    long rpm = row.getLong("rpm_limit");
    long recent = row.getLong("recent_requests");
    long requestsFreeMs = row.getLong("requests_free_ms");
    long tpm = row.getLong("tpm_limit");
    long admittedNow = refusal == null ? 1 : 0;
    return new Admission(refusal == null ? id : null, refusal, row.getLong("retry_after_ms"),
        rpm, Math.max(0, rpm - recent - admittedNow),
        requestsFreeMs == 0 && admittedNow == 1 ? 60_000 : requestsFreeMs,
        tpm, Math.max(0, tpm - row.getLong("used_tokens")), row.getLong("tokens_free_ms"));
  }

  /**
   * Records how a request ended: its tokens and cost now count, and it is no longer in flight.
   * The endings that arrive while one call runs go together in the next.
   */
  public Future<Void> finish(UUID id, long tokens, long costMicros) {
    return endings.submit(Boolean.TRUE, new Ended(id, tokens, costMicros));
  }

  private record Ended(UUID id, long tokens, long costMicros) {}

  private Future<List<Void>> finishAll(List<Ended> batch) {
    int n = batch.size();
    UUID[] ids = new UUID[n];
    Long[] tokens = new Long[n];
    Long[] costs = new Long[n];
    for (int i = 0; i < n; i++) {
      ids[i] = batch.get(i).id();
      tokens[i] = batch.get(i).tokens();
      costs[i] = batch.get(i).costMicros();
    }
    return pool.preparedQuery("SELECT flopex_finish($1, $2, $3)")
        .execute(Tuple.of(ids, tokens, costs))
        .map(rows -> Arrays.asList(new Void[n]));
  }

  /** Forgets a request that was admitted but never sent (the wallet refused it). */
  public Future<Void> forget(UUID id) {
    return pool.preparedQuery("SELECT flopex_forget($1)")
        .execute(Tuple.of(id))
        .mapEmpty();
  }
}
