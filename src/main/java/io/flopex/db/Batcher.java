package io.flopex.db;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;

/**
 * Sends the database work that waits for the same key together: at most one call per key runs
 * at a time, and whatever arrives for the key meanwhile goes in the next call, up to a batch
 * size. Under light load every item goes alone, at once; under heavy load a key costs one call
 * (and one commit) per round trip instead of one lock wait per item. A batch that fails is sent
 * again one item at a time, so that an item the database refuses fails alone. Each item's
 * outcome is handed back on the Vert.x context that submitted it.
 *
 * @param <K> what items are grouped by (an account, a key; one constant for a single queue)
 * @param <I> one item of work
 * @param <O> its outcome
 */
final class Batcher<K, I, O> {

  private final int maxBatch;
  private final BiFunction<K, List<I>, Future<List<O>>> call;
  private final ConcurrentHashMap<K, Queue<K, I, O>> queues = new ConcurrentHashMap<>();

  /**
   * @param call sends one batch for a key; its list holds one outcome per item, in order
   */
  Batcher(int maxBatch, BiFunction<K, List<I>, Future<List<O>>> call) {
    this.maxBatch = maxBatch;
    this.call = call;
  }

  Future<O> submit(K key, I item) {
    Waiting<I, O> waiting = new Waiting<>(item, Vertx.currentContext(), Promise.promise());
    while (true) {
      Queue<K, I, O> queue = queues.computeIfAbsent(key, Queue::new);
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

  private void send(Queue<K, I, O> queue) {
    List<Waiting<I, O>> batch = new ArrayList<>();
    synchronized (queue) {
      while (!queue.pending.isEmpty() && batch.size() < maxBatch) {
        batch.add(queue.pending.poll());
      }
    }
    call(queue.key, batch).onComplete(result -> {
      if (result.failed() && batch.size() > 1) {
        // The statement rolled back whole; one bad item must not fail the others, so each is
        // sent again alone.
        oneByOne(queue, batch, 0);
        return;
      }
      deliver(batch, result);
      next(queue);
    });
  }

  private Future<List<O>> call(K key, List<Waiting<I, O>> batch) {
    List<I> items = new ArrayList<>(batch.size());
    batch.forEach(w -> items.add(w.item));
    try {
      return call.apply(key, items);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  private void oneByOne(Queue<K, I, O> queue, List<Waiting<I, O>> batch, int index) {
    if (index == batch.size()) {
      next(queue);
      return;
    }
    List<Waiting<I, O>> one = List.of(batch.get(index));
    call(queue.key, one).onComplete(result -> {
      deliver(one, result);
      oneByOne(queue, batch, index + 1);
    });
  }

  private static <I, O> void deliver(List<Waiting<I, O>> batch,
      io.vertx.core.AsyncResult<List<O>> result) {
    for (int i = 0; i < batch.size(); i++) {
      Waiting<I, O> w = batch.get(i);
      if (result.failed()) {
        w.settle(Future.failedFuture(result.cause()));
      } else if (i < result.result().size()) {
        w.settle(Future.succeededFuture(result.result().get(i)));
      } else {
        w.settle(Future.failedFuture("the database answered fewer items than it was sent"));
      }
    }
  }

  /** Sends what arrived meanwhile, or retires the key's queue. */
  private void next(Queue<K, I, O> queue) {
    boolean more;
    synchronized (queue) {
      more = !queue.pending.isEmpty();
      if (!more) {
        queue.sending = false;
        queue.retired = true;
        queues.remove(queue.key, queue);
      }
    }
    if (more) {
      send(queue);
    }
  }

  /** The items of one key waiting on this node. */
  private static final class Queue<K, I, O> {
    final K key;
    final ArrayDeque<Waiting<I, O>> pending = new ArrayDeque<>();
    boolean sending;
    /** Out of the map: an item that still finds it takes a new one. */
    boolean retired;

    Queue(K key) {
      this.key = key;
    }
  }

  private record Waiting<I, O>(I item, Context context, Promise<O> promise) {

    /** Completes on the submitter's own context. */
    void settle(Future<O> outcome) {
      if (context == null || context == Vertx.currentContext()) {
        promise.handle(outcome);
      } else {
        context.runOnContext(v -> promise.handle(outcome));
      }
    }
  }
}
