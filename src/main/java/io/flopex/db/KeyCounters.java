package io.flopex.db;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts the requests of keys with limits against what every node holds, so that a limit holds
 * across a cluster: requests begun in the last 60 seconds ({@code rpm}), tokens of requests that
 * ended in the last 60 seconds plus what running ones may use ({@code tpm}), requests running
 * ({@code max_concurrent}) and spending in the current period ({@code limit_micros}).
 *
 * <p>Each node leases a share of a key's limits from PostgreSQL (the database function
 * {@code flopex_lease}, table {@code key_leases}) and admits the key's requests from that share
 * without a round trip while it lasts. The database decides whatever the share does not cover,
 * one request after another, with the key's row locked, counting what every node holds. Because
 * a share is granted out of what is left, and requests a node may begin from it count as begun
 * when it is granted, the nodes together never admit more than a limit allows; what a share
 * costs is that another node may be refused a little early while the share lasts. A share is
 * at most {@link #SHARE 1/8} of what is left of each limit and lasts {@link #SPARE_MS one
 * second}, so a small limit is decided in the database request by request and a change to a
 * key's limits takes effect within a second.
 *
 * <p>On one node, a key has at most one call running: the requests that arrive meanwhile, and
 * the endings, go together in the next. Endings are reported within {@link #FLUSH_MS} (their
 * tokens and cost then count on every node); a node with requests of a key running renews its
 * row every {@link #HEARTBEAT_MS}, and a row not renewed for {@link #STALE_SECONDS} belonged to a
 * node that stopped.
 *
 * <p>The pool given here should commit without waiting for the disk (see
 * {@link Database#relaxedPool}): these are counts, not money.
 */
public final class KeyCounters {

  private static final Logger LOG = LoggerFactory.getLogger(KeyCounters.class);

  /** How long a share lasts. */
  static final int SPARE_MS = 1_000;
  /** A share is at most this fraction of what is left of a limit. */
  static final int SHARE = 8;
  /** How soon endings are reported. */
  static final int FLUSH_MS = 100;
  /** How often a node with requests running renews its rows. */
  static final int HEARTBEAT_MS = 30_000;
  /** The longest a node waits, when it stops, to report its keys' counts. */
  private static final long CLOSE_MS = 5_000;
  /** How long a row is counted after its node last renewed it. */
  static final int STALE_SECONDS = 120;
  /** The most requests of one key decided in one call. */
  private static final int MAX_BATCH = 256;
  /** The most requests a share is asked for. */
  private static final long MAX_WISH = 100_000;
  private static final long UNLIMITED = Long.MAX_VALUE;
  /** A share is used locally a little less long than the database counts it. */
  private static final long SPARE_MARGIN_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

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
      Held held,
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

  /**
   * What an admitted request holds of its key's limits until it ends: its expected tokens, its
   * worst-case cost, the second it was counted as begun in and the UTC day it began.
   */
  public record Held(UUID keyId, long tokens, long micros, long second, LocalDate day) {}

  private final Vertx vertx;
  private final Pool pool;
  private final Counter fromShare;
  private final Counter decided;
  private final Counter calls;
  private final UUID node = UUID.randomUUID();
  private final ConcurrentHashMap<UUID, KeyState> keys = new ConcurrentHashMap<>();
  private final long sweeper;
  private volatile boolean closing;

  public KeyCounters(Vertx vertx, Pool pool, MeterRegistry registry) {
    this.vertx = vertx;
    this.pool = pool;
    this.fromShare = Counter.builder("flopex.key_limit.admissions")
        .description("Requests of keys with limits admitted, by where: from this node's share"
            + " of the key's limits, or decided in the database")
        .tag("by", "share").register(registry);
    this.decided = Counter.builder("flopex.key_limit.admissions")
        .description("Requests of keys with limits admitted, by where: from this node's share"
            + " of the key's limits, or decided in the database")
        .tag("by", "database").register(registry);
    this.calls = Counter.builder("flopex.key_limit.calls")
        .description("Calls to the database for keys with limits: admissions, shares, endings")
        .register(registry);
    this.sweeper = vertx.setPeriodic(1_000, id -> sweep());
  }

  /**
   * Admits a request of this key if all of its limits allow it, counting it as running.
   *
   * @param tokenEstimate the tokens the request may use when it sets an output limit, or -1 to
   *     expect what the key's requests of the last minute used on average, or, without any,
   *     {@code defaultEstimate}
   * @param worstCaseMicros its worst-case cost, held against the key's spending limit
   */
  public Future<Admission> admit(UUID keyId, long tokenEstimate, long defaultEstimate,
      long worstCaseMicros) {
    Asked asked = new Asked(tokenEstimate, defaultEstimate, worstCaseMicros);
    while (true) {
      KeyState state = keys.computeIfAbsent(keyId, KeyState::new);
      boolean call;
      Waiting waiting;
      synchronized (state) {
        if (state.retired) {
          continue;
        }
        if (state.waiting.isEmpty() && !state.calling()) {
          Admission local = state.fromSpare(asked, System.nanoTime());
          if (local != null) {
            fromShare.increment();
            return Future.succeededFuture(local);
          }
        }
        waiting = new Waiting(asked, Vertx.currentContext(), Promise.promise());
        state.waiting.add(waiting);
        call = state.begin();
      }
      if (call) {
        call(state, false);
      }
      return waiting.promise.future();
    }
  }

  /** Counts how an admitted request ended: its tokens and its cost. */
  public void finish(Held held, long tokens, long costMicros) {
    end(held, tokens, costMicros, false);
  }

  /** Gives back what an admitted request held when it was never sent (the wallet refused it). */
  public void forget(Held held) {
    end(held, 0, 0, true);
  }

  private void end(Held held, long tokens, long costMicros, boolean unstarted) {
    KeyState state = keys.get(held.keyId());
    if (state == null) {
      return;
    }
    synchronized (state) {
      state.running--;
      state.runningTokens -= held.tokens();
      state.runningMicros -= held.micros();
      if (unstarted) {
        state.unstarted.merge(held.second(), 1L, Long::sum);
      } else {
        state.ended++;
        state.endedTokens += tokens;
        state.endedCosts.merge(held.day(), costMicros, Long::sum);
      }
      // What the share held for this request covers the next one; what it used beyond its
      // estimate comes out of the share.
      if (!state.calling() && state.spareValid(System.nanoTime())) {
        state.spareSlots = give(state.spareSlots, 1);
        state.spareTokens = give(state.spareTokens, held.tokens() - tokens);
        state.spareMicros = give(state.spareMicros, held.micros() - costMicros);
      }
    }
    report(state, false);
  }

  /**
   * Reports what ended: at once when the key is near a limit (its last share was empty), so
   * that other nodes see the room it left; otherwise within {@link #FLUSH_MS}, with whatever
   * else ends meanwhile.
   */
  private void report(KeyState state, boolean failed) {
    if (closing && failed) {
      // The node is stopping: what could not be reported is left to the stale time.
      return;
    }
    boolean now;
    boolean later;
    synchronized (state) {
      now = !failed && state.hasNews() && state.tight() && state.begin();
      later = !now && !state.calling() && !state.flushSet && (failed || state.hasNews());
      state.flushSet |= later;
    }
    if (now) {
      call(state, closing);
    } else if (later) {
      vertx.setTimer(failed ? SPARE_MS : FLUSH_MS, id -> flushNow(state));
    }
  }

  private void flushNow(KeyState state) {
    boolean call;
    synchronized (state) {
      state.flushSet = false;
      call = !state.calling() && state.hasNews() && state.begin();
    }
    if (call) {
      call(state, closing);
    }
  }

  /**
   * Reports every key's endings and gives back every share, once no request runs any more;
   * the last thing before the pool closes.
   */
  public Future<Void> close() {
    closing = true;
    vertx.cancelTimer(sweeper);
    List<Future<Void>> all = new ArrayList<>();
    for (KeyState state : keys.values()) {
      all.add(release(state));
    }
    Promise<Void> done = Promise.promise();
    long bound = vertx.setTimer(CLOSE_MS, id -> {
      LOG.warn("Stopping without having reported every key's counts; other nodes stop counting"
          + " this node's share after {} seconds", STALE_SECONDS);
      done.tryComplete();
    });
    Future.join(all).onComplete(v -> {
      vertx.cancelTimer(bound);
      done.tryComplete();
    });
    return done.future();
  }

  private Future<Void> release(KeyState state) {
    Future<Void> running;
    synchronized (state) {
      running = state.calling() ? state.current.future() : null;
      if (running == null) {
        state.begin();
      }
    }
    return running == null ? call(state, true) : running.eventually(() -> release(state));
  }

  /** Renews rows with requests running, reports shares left unused, forgets idle keys. */
  private void sweep() {
    long now = System.nanoTime();
    for (KeyState state : keys.values()) {
      boolean call = false;
      synchronized (state) {
        if (state.calling()) {
          continue;
        }
        boolean expired = !state.spareValid(now);
        if (state.hasNews() || (expired && state.shareHeld)
            || (state.running > 0
                && now - state.lastCallNanos > TimeUnit.MILLISECONDS.toNanos(HEARTBEAT_MS))) {
          call = state.begin();
        } else if (expired && state.running == 0 && state.waiting.isEmpty() && !state.flushSet) {
          state.retired = true;
          keys.remove(state.keyId, state);
        }
      }
      if (call) {
        call(state, closing);
      }
    }
  }

  /** One call of {@code flopex_lease} for a key, begun by {@link KeyState#begin}. */
  private Future<Void> call(KeyState state, boolean release) {
    Call call;
    Promise<Void> done;
    synchronized (state) {
      call = state.startCall(release);
      done = state.current;
    }
    calls.increment();
    Tuple args = Tuple.tuple()
        .addUUID(state.keyId).addUUID(node).addInteger(STALE_SECONDS).addInteger(SPARE_MS)
        .addInteger(SHARE).addUUID(call.report)
        .addInteger(call.ended).addLong(call.endedTokens)
        .addArrayOfLocalDate(call.days).addArrayOfLong(call.costs)
        .addArrayOfLong(call.unstartedSeconds).addArrayOfLong(call.unstarted)
        .addInteger(call.running).addLong(call.runningTokens).addLong(call.runningMicros)
        .addArrayOfLong(call.estimates).addArrayOfLong(call.defaults).addArrayOfLong(call.worst)
        .addLong(call.wantRequests).addLong(call.wantTokens).addLong(call.wantSlots)
        .addLong(call.wantMicros);
    pool.preparedQuery("SELECT * FROM flopex_lease($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
            + " $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)")
        .execute(args)
        .onComplete(result -> {
          List<Runnable> settle = new ArrayList<>();
          boolean again;
          synchronized (state) {
            try {
              if (result.succeeded()) {
                int shared = state.applied(call, result.result().iterator().next(), settle);
                fromShare.increment(shared);
                decided.increment(state.decidedCount);
              } else {
                state.failed(call, result.cause(), settle);
              }
            } catch (RuntimeException e) {
              LOG.error("Key-limit counts of key {} could not be applied", state.keyId, e);
              state.failed(call, e, settle);
            } finally {
              state.current = null;
            }
            again = !state.waiting.isEmpty() && state.begin();
          }
          settle.forEach(Runnable::run);
          if (again) {
            call(state, closing);
          } else {
            report(state, result.failed());
          }
          done.complete();
        });
    return done.future();
  }

  private static long give(long spare, long amount) {
    return spare == UNLIMITED ? UNLIMITED : spare + amount;
  }

  private static long spare(long granted) {
    return granted < 0 ? UNLIMITED : granted;
  }

  private record Asked(long tokenEstimate, long defaultEstimate, long worstCaseMicros) {}

  private record Waiting(Asked asked, Context context, Promise<Admission> promise) {

    /** Completes on the requester's own context. */
    Runnable settle(Future<Admission> outcome) {
      return () -> {
        if (context == null || context == Vertx.currentContext()) {
          promise.handle(outcome);
        } else {
          context.runOnContext(v -> promise.handle(outcome));
        }
      };
    }
  }

  /** What one call sends, taken from the key's state when it starts. */
  private static final class Call {
    List<Waiting> batch;
    /** Identifies what this call reports (endings, give-backs), so that it counts once. */
    UUID report;
    /** Whether it asked for a share. */
    boolean wished;
    int ended;
    long endedTokens;
    LocalDate[] days;
    Long[] costs;
    Long[] unstartedSeconds;
    Long[] unstarted;
    int running;
    long runningTokens;
    long runningMicros;
    Long[] estimates;
    Long[] defaults;
    Long[] worst;
    long wantRequests;
    long wantTokens;
    long wantSlots;
    long wantMicros;
    long sentNanos;
  }

  /** One key on this node; guarded by its own monitor. */
  private static final class KeyState {
    final UUID keyId;
    final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
    /** The call running for this key, if any. */
    Promise<Void> current;
    boolean flushSet;
    boolean retired;
    long lastCallNanos = System.nanoTime();

    /** The share: what may still be handed out locally, until spareUntilNanos. */
    boolean known;
    boolean near = true;
    /** Whether the database counts a share granted to this node since its last call. */
    boolean shareHeld;
    /** Requests admitted from the share since the last call. */
    long sharedSinceCall;
    /** A report whose call failed, to be sent again as it was. */
    Call retry;
    long spareRequests;
    long spareTokens;
    long spareSlots;
    long spareMicros;
    long spareSecond;
    long spareUntilNanos;

    /** What runs here. */
    int running;
    long runningTokens;
    long runningMicros;

    /** What ended, or was never sent, since the last call. */
    int ended;
    long endedTokens;
    final Map<LocalDate, Long> endedCosts = new HashMap<>();
    final Map<Long, Long> unstarted = new HashMap<>();

    /**
     * Admitted here in the current half second and the one before (requests, tokens, micros
     * each), for the size of the next share.
     */
    final long[] pace = new long[6];
    /** How many requests the last call's database decision admitted. */
    int decidedCount;
    long paceStart = System.nanoTime();

    /** What the last call reported, for the headers of requests admitted from the share. */
    long rpm;
    long tpm;
    long recent;
    long usedTokens;
    long requestsFreeMs;
    long tokensFreeMs;
    long averageTokens = -1;
    long reportedNanos;

    KeyState(UUID keyId) {
      this.keyId = keyId;
    }

    boolean calling() {
      return current != null;
    }

    /** Marks a call as begun; true when none ran. */
    boolean begin() {
      if (current != null) {
        return false;
      }
      current = Promise.promise();
      return true;
    }

    boolean spareValid(long now) {
      return known && now - spareUntilNanos < 0;
    }

    boolean hasNews() {
      return ended > 0 || !unstarted.isEmpty() || retry != null;
    }

    /** Whether the last share granted nothing of some limit: the key is near it. */
    boolean tight() {
      return near;
    }

    /** Admits from the share, or returns null when it does not cover the request. */
    Admission fromSpare(Asked asked, long now) {
      if (!spareValid(now)) {
        return null;
      }
      long expected = asked.tokenEstimate() >= 0 ? asked.tokenEstimate()
          : averageTokens >= 0 ? averageTokens : asked.defaultEstimate();
      if (spareRequests < 1 || spareSlots < 1 || spareTokens < expected
          || spareMicros < asked.worstCaseMicros()) {
        return null;
      }
      sharedSinceCall++;
      spareRequests = give(spareRequests, -1);
      spareSlots = give(spareSlots, -1);
      spareTokens = give(spareTokens, -expected);
      spareMicros = give(spareMicros, -asked.worstCaseMicros());
      Held held = new Held(keyId, expected, asked.worstCaseMicros(), spareSecond,
          LocalDate.now(ZoneOffset.UTC));
      Admission admission = admitted(held, recent, usedTokens, now);
      recent++;
      usedTokens += expected;
      return admission;
    }

    /** Counts an admitted request as running here. */
    private Admission admitted(Held held, long recentBefore, long usedBefore, long now) {
      running++;
      runningTokens += held.tokens();
      runningMicros += held.micros();
      roll(now);
      pace[0]++;
      pace[1] += held.tokens();
      pace[2] += held.micros();
      long elapsedMs = TimeUnit.NANOSECONDS.toMillis(now - reportedNanos);
      long requestsFree = Math.max(0, requestsFreeMs - elapsedMs);
      return new Admission(held, null, 0, rpm, Math.max(0, rpm - recentBefore - 1),
          requestsFree == 0 ? 60_000 : requestsFree, tpm,
          Math.max(0, tpm - usedBefore), Math.max(0, tokensFreeMs - elapsedMs));
    }

    /** Starts a new half second of pace when the current one is over. */
    private void roll(long now) {
      long half = TimeUnit.MILLISECONDS.toNanos(500);
      if (now - paceStart < half) {
        return;
      }
      boolean adjacent = now - paceStart < 2 * half;
      for (int i = 0; i < 3; i++) {
        pace[i + 3] = adjacent ? pace[i] : 0;
        pace[i] = 0;
      }
      paceStart = now;
    }

    /** Takes what the next call sends; the share is given up until the call answers. */
    Call startCall(boolean release) {
      long now = System.nanoTime();
      Call call = new Call();
      call.sentNanos = now;
      call.batch = new ArrayList<>();
      while (!waiting.isEmpty() && call.batch.size() < MAX_BATCH) {
        call.batch.add(waiting.poll());
      }
      int n = call.batch.size();
      call.estimates = new Long[n];
      call.defaults = new Long[n];
      call.worst = new Long[n];
      for (int i = 0; i < n; i++) {
        Asked asked = call.batch.get(i).asked();
        call.estimates[i] = asked.tokenEstimate();
        call.defaults[i] = asked.defaultEstimate();
        call.worst[i] = asked.worstCaseMicros();
      }
      if (known && spareRequests != UNLIMITED && spareRequests > 0 && spareSecond > 0) {
        unstarted.merge(spareSecond, spareRequests, Long::sum);
      }
      if (retry != null) {
        // A report whose answer was lost goes again as it was, under its own id; what came
        // since waits for the next call.
        call.report = retry.report;
        call.ended = retry.ended;
        call.endedTokens = retry.endedTokens;
        call.days = retry.days;
        call.costs = retry.costs;
        call.unstartedSeconds = retry.unstartedSeconds;
        call.unstarted = retry.unstarted;
      } else {
        call.ended = ended;
        call.endedTokens = endedTokens;
        call.days = endedCosts.keySet().toArray(new LocalDate[0]);
        call.costs = new Long[call.days.length];
        for (int i = 0; i < call.days.length; i++) {
          call.costs[i] = endedCosts.get(call.days[i]);
        }
        call.unstartedSeconds = unstarted.keySet().toArray(new Long[0]);
        call.unstarted = new Long[call.unstartedSeconds.length];
        for (int i = 0; i < call.unstartedSeconds.length; i++) {
          call.unstarted[i] = unstarted.get(call.unstartedSeconds[i]);
        }
        call.report = call.ended > 0 || call.unstartedSeconds.length > 0 ? UUID.randomUUID()
            : null;
        ended = 0;
        endedTokens = 0;
        endedCosts.clear();
        unstarted.clear();
      }
      call.running = running;
      call.runningTokens = runningTokens;
      call.runningMicros = runningMicros;
      // With requests waiting, or while the share is in use, ask for about what this node
      // admitted over the last half second to one second; a key that went quiet gives its
      // share back.
      roll(now);
      long recentCount = pace[0] + pace[3];
      long wish = release || (n == 0 && sharedSinceCall == 0) ? 0
          : Math.min(MAX_WISH, recentCount);
      call.wished = wish > 0;
      sharedSinceCall = 0;
      shareHeld = false;
      call.wantRequests = wish;
      call.wantSlots = wish;
      call.wantTokens = recentCount == 0 ? 0 : multiply(wish, (pace[1] + pace[4]) / recentCount);
      call.wantMicros = recentCount == 0 ? 0 : multiply(wish, (pace[2] + pace[5]) / recentCount);
      lastCallNanos = now;
      spareRequests = 0;
      spareTokens = 0;
      spareSlots = 0;
      spareMicros = 0;
      spareSecond = 0;
      return call;
    }

    private static long multiply(long a, long b) {
      try {
        return Math.multiplyExact(a, b);
      } catch (ArithmeticException e) {
        return Long.MAX_VALUE;
      }
    }

    /**
     * Applies what the database decided and granted; returns how many requests that arrived
     * meanwhile went from the new share.
     */
    int applied(Call call, Row row, List<Runnable> settle) {
      long now = System.nanoTime();
      rpm = row.getLong("rpm_limit");
      tpm = row.getLong("tpm_limit");
      requestsFreeMs = row.getLong("requests_free_ms");
      tokensFreeMs = row.getLong("tokens_free_ms");
      averageTokens = row.getLong("average_tokens");
      reportedNanos = now;
      String[] refusals = row.getArrayOfStrings("refusals");
      Long[] waits = row.getArrayOfLongs("waits");
      Long[] expected = row.getArrayOfLongs("expected");
      Long[] recents = row.getArrayOfLongs("recents");
      Long[] useds = row.getArrayOfLongs("useds");
      long second = row.getLong("now_second");
      LocalDate today = LocalDate.now(ZoneOffset.UTC);
      int byDatabase = 0;
      for (int i = 0; i < call.batch.size(); i++) {
        Waiting w = call.batch.get(i);
        Admission admission;
        if (refusals[i] == null) {
          byDatabase++;
          admission = admitted(new Held(keyId, expected[i], w.asked().worstCaseMicros(), second,
              today), recents[i], useds[i], now);
        } else {
          admission = new Admission(null, Refusal.valueOf(refusals[i]), waits[i], rpm,
              Math.max(0, rpm - recents[i]), requestsFreeMs, tpm,
              Math.max(0, tpm - useds[i]), tokensFreeMs);
        }
        settle.add(w.settle(Future.succeededFuture(admission)));
      }
      decidedCount = byDatabase;
      recent = row.getLong("recent_requests");
      usedTokens = row.getLong("used_tokens");
      known = true;
      spareRequests = spare(row.getLong("spare_requests"));
      spareTokens = spare(row.getLong("spare_tokens"));
      spareSlots = spare(row.getLong("spare_slots"));
      spareMicros = spare(row.getLong("spare_micros"));
      spareSecond = row.getLong("spare_second");
      if (call.wished) {
        near = spareRequests == 0 || spareTokens == 0 || spareSlots == 0 || spareMicros == 0;
      }
      shareHeld = (spareRequests != UNLIMITED && spareRequests > 0)
          || (spareTokens != UNLIMITED && spareTokens > 0)
          || (spareSlots != UNLIMITED && spareSlots > 0)
          || (spareMicros != UNLIMITED && spareMicros > 0);
      if (call.report != null && retry != null && retry.report.equals(call.report)) {
        retry = null;
      }
      spareUntilNanos = call.sentNanos + TimeUnit.MILLISECONDS.toNanos(SPARE_MS)
          - SPARE_MARGIN_NANOS;
      // What arrived during the call goes from the new share when it fits.
      int shared = 0;
      while (!waiting.isEmpty()) {
        Admission local = fromSpare(waiting.peek().asked(), now);
        if (local == null) {
          break;
        }
        shared++;
        settle.add(waiting.poll().settle(Future.succeededFuture(local)));
      }
      return shared;
    }

    /** The call failed: its requests are refused as undecided; what it reported is kept. */
    void failed(Call call, Throwable cause, List<Runnable> settle) {
      LOG.warn("Could not reach the key-limit counts for key {}: {}", keyId, cause.getMessage());
      for (Waiting w : call.batch) {
        settle.add(w.settle(Future.failedFuture(cause)));
      }
      // The database may have counted the report before the answer was lost: it goes again
      // under the same id. The share given up for this call stays counted until the next.
      if (call.report != null) {
        retry = call;
      }
      shareHeld = true;
    }
  }
}
