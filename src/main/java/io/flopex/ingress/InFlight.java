package io.flopex.ingress;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The chat exchanges of this node that have not finished their bookkeeping: from the moment a
 * request is accepted until its usage row is handed to the usage verticle and its charge is
 * written (its key-limit counts are reported by the node's counters, flushed when it stops). A
 * node that shuts down waits for it to reach zero before it stops the usage writer and closes
 * the database, so that nothing metered is lost. Exchanges run on every event loop, so the
 * count is atomic.
 */
public final class InFlight {

  private final AtomicInteger count = new AtomicInteger();
  private final List<Promise<Void>> waiters = new ArrayList<>();

  void begin() {
    count.incrementAndGet();
  }

  void end() {
    if (count.decrementAndGet() == 0) {
      List<Promise<Void>> done;
      synchronized (waiters) {
        done = new ArrayList<>(waiters);
        waiters.clear();
      }
      done.forEach(Promise::tryComplete);
    }
  }

  public int count() {
    return count.get();
  }

  /**
   * Completes once nothing is in flight, or fails after {@code timeoutMs} with how many
   * exchanges were left.
   */
  public Future<Void> idle(Vertx vertx, long timeoutMs) {
    Promise<Void> promise = Promise.promise();
    synchronized (waiters) {
      waiters.add(promise);
    }
    if (count.get() == 0) {
      promise.tryComplete();
    }
    long timer = vertx.setTimer(Math.max(1, timeoutMs), id -> promise.tryFail(
        count.get() + " requests had not finished their bookkeeping"));
    return promise.future().onComplete(v -> vertx.cancelTimer(timer));
  }
}
