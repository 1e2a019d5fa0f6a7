package io.flopex.usage;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The usage rows of a node waiting to be written. When the database falls behind (or cannot be
 * reached) and {@code usage.maxPending} rows wait, the node refuses new chat requests instead of
 * serving requests it could not meter; the rows of requests already running still wait, and no
 * row is ever dropped for lack of room.
 */
public final class UsageBacklog {

  private final int capacity;
  private final AtomicInteger waiting = new AtomicInteger();

  public UsageBacklog(int capacity) {
    this.capacity = capacity;
  }

  /** Whether new requests must wait until the rows already waiting are written. */
  public boolean full() {
    return waiting.get() >= capacity;
  }

  public int size() {
    return waiting.get();
  }

  void added() {
    waiting.incrementAndGet();
  }

  void removed(int rows) {
    waiting.addAndGet(-rows);
  }
}
