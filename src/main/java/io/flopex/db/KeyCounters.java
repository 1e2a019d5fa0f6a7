package io.flopex.db;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

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

  /** The most requests of one key admitted in one call. */
  private static final int MAX_BATCH = 256;

  private final Pool pool;
  private final ConcurrentHashMap<UUID, KeyQueue> queues = new ConcurrentHashMap<>();
  private final ArrayDeque<Ending> endings = new ArrayDeque<>();
  private boolean sendingEndings;

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
    Waiting waiting = new Waiting(UUID.randomUUID(), tokenEstimate, defaultEstimate,
        worstCaseMicros, Vertx.currentContext(), Promise.promise());
    while (true) {
      KeyQueue queue = queues.computeIfAbsent(keyId, KeyQueue::new);
      boolean send;
      synchronized (queue) {
        if (queue.retired) {
          continue;
        }
        queue.pending.add(waiting);
        send = !queue.sending;
        queue.sending = true;
      }
      if (send) {
        send(queue);
      }
      return waiting.promise.future();
    }
  }

  /** Sends what waits for this key in one call, then again while more arrived meanwhile. */
  private void send(KeyQueue queue) {
    List<Waiting> batch = new ArrayList<>();
    synchronized (queue) {
      while (!queue.pending.isEmpty() && batch.size() < MAX_BATCH) {
        batch.add(queue.pending.poll());
      }
    }
    int n = batch.size();
    UUID[] ids = new UUID[n];
    Long[] estimates = new Long[n];
    Long[] defaults = new Long[n];
    Long[] worst = new Long[n];
    for (int i = 0; i < n; i++) {
      Waiting w = batch.get(i);
      ids[i] = w.id;
      estimates[i] = w.tokenEstimate;
      defaults[i] = w.defaultEstimate;
      worst[i] = w.worstCaseMicros;
    }
    pool.preparedQuery("SELECT * FROM flopex_admit($1, $2, $3, $4, $5, $6)")
        .execute(Tuple.of(queue.keyId, ids, STALE_MINUTES, estimates, defaults, worst))
        .onComplete(result -> {
          if (result.succeeded()) {
            Admission[] admissions = new Admission[n];
            for (Row row : result.result()) {
              int i = row.getInteger("ord") - 1;
              admissions[i] = admission(ids[i], row);
            }
            for (int i = 0; i < n; i++) {
              Admission admission = admissions[i];
              batch.get(i).settle(admission != null ? Future.succeededFuture(admission)
                  : Future.failedFuture("the admission of request " + ids[i] + " went missing"));
            }
          } else {
            batch.forEach(w -> w.settle(Future.failedFuture(result.cause())));
          }
          boolean more;
          synchronized (queue) {
            more = !queue.pending.isEmpty();
            if (!more) {
              queue.sending = false;
              queue.retired = true;
              queues.remove(queue.keyId, queue);
            }
          }
          if (more) {
            send(queue);
          }
        });
  }

  /** The requests of one key waiting to be admitted on this node. */
  private static final class KeyQueue {
    final UUID keyId;
    final ArrayDeque<Waiting> pending = new ArrayDeque<>();
    boolean sending;
    /** Out of the map: a request that still finds it takes a new one. */
    boolean retired;

    KeyQueue(UUID keyId) {
      this.keyId = keyId;
    }
  }

  private record Waiting(UUID id, long tokenEstimate, long defaultEstimate,
      long worstCaseMicros, Context context, Promise<Admission> promise) {

    /** Completes on the request's own context. */
    void settle(Future<Admission> outcome) {
      if (context == null || context == Vertx.currentContext()) {
        promise.handle(outcome);
      } else {
        context.runOnContext(v -> promise.handle(outcome));
      }
    }
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
    Ending ending = new Ending(id, tokens, costMicros, Vertx.currentContext(), Promise.promise());
    boolean send;
    synchronized (endings) {
      endings.add(ending);
      send = !sendingEndings;
      sendingEndings = true;
    }
    if (send) {
      sendEndings();
    }
    return ending.promise.future();
  }

  private void sendEndings() {
    List<Ending> batch = new ArrayList<>();
    synchronized (endings) {
      while (!endings.isEmpty() && batch.size() < MAX_BATCH) {
        batch.add(endings.poll());
      }
    }
    int n = batch.size();
    UUID[] ids = new UUID[n];
    Long[] tokens = new Long[n];
    Long[] costs = new Long[n];
    for (int i = 0; i < n; i++) {
      ids[i] = batch.get(i).id;
      tokens[i] = batch.get(i).tokens;
      costs[i] = batch.get(i).costMicros;
    }
    pool.preparedQuery("SELECT flopex_finish($1, $2, $3)")
        .execute(Tuple.of(ids, tokens, costs))
        .onComplete(result -> {
          Future<Void> outcome = result.succeeded() ? Future.succeededFuture()
              : Future.failedFuture(result.cause());
          batch.forEach(e -> e.settle(outcome));
          boolean more;
          synchronized (endings) {
            more = !endings.isEmpty();
            sendingEndings = more;
          }
          if (more) {
            sendEndings();
          }
        });
  }

  private record Ending(UUID id, long tokens, long costMicros, Context context,
      Promise<Void> promise) {

    void settle(Future<Void> outcome) {
      if (context == null || context == Vertx.currentContext()) {
        promise.handle(outcome);
      } else {
        context.runOnContext(v -> promise.handle(outcome));
      }
    }
  }

  /** Forgets a request that was admitted but never sent (the wallet refused it). */
  public Future<Void> forget(UUID id) {
    return pool.preparedQuery("SELECT flopex_forget($1)")
        .execute(Tuple.of(id))
        .mapEmpty();
  }
}
