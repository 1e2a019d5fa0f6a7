package io.flopex.usage;

import io.flopex.bus.Addresses;
import io.flopex.bus.AttemptRecord;
import io.flopex.bus.Usage;
import io.flopex.bus.UsageRecord;
import io.flopex.config.FlopexConfig;
import io.flopex.db.UsageStore;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes usage rows to PostgreSQL in batches, off the request path: a request hands its record
 * to the event bus and never waits for the database.
 *
 * <p>A batch goes out when {@code batchSize} rows are waiting or {@code flushIntervalMs} has
 * passed, and the next as soon as it is written while rows wait. If the database is unreachable
 * or slower than the requests, rows wait in memory and the write is retried; with
 * {@code maxPending} rows waiting the node refuses new chat requests ({@link UsageBacklog}), so
 * neither an outage nor an overload can exhaust the heap or lose a row. Undeploying the verticle
 * writes everything still waiting.
 *
 * <p>Each record also moves the node's request, token, cost, latency and failover meters
 * ({@link UsageMeters}), here rather than on the request path.
 */
public final class UsageVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(UsageVerticle.class);

  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);
  /** The most batches written at once. */
  private static final int MAX_WRITES = 4;

  private final UsageStore store;
  private final FlopexConfig.Usage config;
  private final ArrayDeque<UsageRecord> pending = new ArrayDeque<>();
  /** Batches being written now. */
  private int writing;
  private boolean stopping;
  private MessageConsumer<UsageRecord> consumer;
  private Promise<Void> writesEnded;
  private long timer = -1;
  private long failures;
  private final UsageBacklog backlog;

  private final UsageMeters meters;

  /** Records each request's meters into {@code registry}, besides writing its row. */
  public UsageVerticle(UsageStore store, FlopexConfig config, MeterRegistry registry,
      UsageBacklog backlog) {
    this.store = store;
    this.config = config.usage();
    this.meters = new UsageMeters(registry, config, backlog);
    this.backlog = backlog;
  }

  @Override
  public Future<?> start() {
    consumer =
        vertx.eventBus().localConsumer(Addresses.USAGE_RECORD, message -> accept(message.body()));
    return consumer.completion();
  }

  @Override
  public Future<?> stop() {
    // Rows still on their way are accepted before the last write (the consumer unregisters
    // after delivering what was sent to it).
    return consumer.unregister().recover(err -> Future.succeededFuture()).compose(v -> {
      stopping = true;
      if (writing == 0) {
        return drain(5);
      }
      // The batches being written end first (written, or put back to wait with the rest),
      // within the statement time of the database's answer or ten seconds.
      writesEnded = Promise.promise();
      long bound = vertx.setTimer(10_000, id -> writesEnded.tryComplete());
      return writesEnded.future().onComplete(x -> vertx.cancelTimer(bound))
          .compose(x -> drain(5));
    });
  }

  private void accept(UsageRecord record) {
    vertx.eventBus().publish(Addresses.REQUESTS, event(record), LOCAL);
    meters.record(record);
    pending.addLast(record);
    backlog.added();
    if (pending.size() >= config.batchSize()) {
      flush();
    } else if (timer < 0) {
      timer = vertx.setTimer(config.flushIntervalMs(), id -> {
        timer = -1;
        flush();
      });
    }
  }

  /**
   * The request's routing outcome for metrics consumers: what the usage row holds, less the
   * account and key, and never any content.
   */
  static JsonObject event(UsageRecord record) {
    JsonArray attempts = new JsonArray();
    for (AttemptRecord attempt : record.attempts()) {
      attempts.add(new JsonObject()
          .put("provider", attempt.provider())
          .put("upstreamModel", attempt.upstreamModel())
          .put("outcome", attempt.outcome())
          .put("latencyMs", attempt.latencyMs()));
    }
    Usage usage = record.usage();
    return new JsonObject()
        .put("requestId", record.requestId())
        .put("at", record.createdAt().toString())
        .put("model", record.model())
        .put("provider", record.provider())
        .put("upstreamModel", record.upstreamModel())
        .put("streamed", record.streamed())
        .put("outcome", record.outcome())
        .put("status", record.status())
        .put("attempts", attempts)
        .put("promptTokens", usage.promptTokens())
        .put("completionTokens", usage.completionTokens())
        .put("cachedTokens", usage.cachedTokens())
        .put("cacheWriteTokens", usage.cacheWriteTokens())
        .put("reasoningTokens", usage.reasoningTokens())
        .put("costMicros", record.costMicros())
        .put("latencyMs", record.latencyMs())
        .put("timeToFirstByteMs", record.ttfbMs());
  }

  /**
   * Writes what waits: one batch at a time while the rows keep up, up to {@link #MAX_WRITES} at
   * once while full batches wait (so the database always has the next batch in hand, however
   * busy this node's event loops are), and one at a time while writes fail.
   */
  private void flush() {
    if (stopping) {
      if (writing == 0 && writesEnded != null) {
        writesEnded.tryComplete();
      }
      return;
    }
    if (failures > 0 && timer >= 0) {
      // Writes are failing: only the retry timer tries again.
      return;
    }
    while (!pending.isEmpty() && (writing == 0 || (failures == 0 && writing < MAX_WRITES
        && pending.size() >= config.batchSize()))) {
      writeBatch();
    }
  }

  private void writeBatch() {
    writing++;
    List<UsageRecord> batch = new ArrayList<>(Math.min(pending.size(), config.batchSize()));
    for (int i = 0; i < config.batchSize() && !pending.isEmpty(); i++) {
      batch.add(pending.pollFirst());
    }
    store.insert(batch)
        .onSuccess(v -> {
          writing--;
          failures = 0;
          backlog.removed(batch.size());
          flush();
        })
        .onFailure(err -> {
          if (rejectedForContent(err)) {
            // One bad row must not hold back the rows behind it: write them one at a time.
            backlog.removed(batch.size());
            insertEach(batch, 0).onComplete(v -> {
              writing--;
              flush();
            });
            return;
          }
          writing--;
          for (int i = batch.size() - 1; i >= 0; i--) {
            pending.addFirst(batch.get(i));
          }
          if (stopping) {
            flush();
            return;
          }
          // At most a few seconds: while the backlog is full the node refuses requests, and it
          // should take them again soon after the database is back.
          long backoff = Math.min(5_000, config.flushIntervalMs() << Math.min(failures++, 8));
          LOG.warn("Writing {} usage rows failed ({}); retrying in {} ms", batch.size(),
              err.getMessage(), backoff);
          if (timer < 0) {
            timer = vertx.setTimer(backoff, id -> {
              timer = -1;
              flush();
            });
          }
        });
  }

  /** Whether PostgreSQL refused the data itself (SQLSTATE classes 22 and 23), not the connection. */
  private static boolean rejectedForContent(Throwable err) {
    return err instanceof PgException pg && pg.getSqlState() != null
        && (pg.getSqlState().startsWith("22") || pg.getSqlState().startsWith("23"));
  }

  private Future<Void> insertEach(List<UsageRecord> batch, int index) {
    if (index == batch.size()) {
      return Future.succeededFuture();
    }
    UsageRecord record = batch.get(index);
    return store.insert(List.of(record))
        .recover(err -> {
          if (rejectedForContent(err)) {
            LOG.error("Usage row {} of request {} was refused by the database and dropped: {}",
                record.id(), record.requestId(), ((PgException) err).getSqlState());
            meters.dropped();
            return Future.succeededFuture();
          }
          pending.addFirst(record);
          backlog.added();
          return Future.succeededFuture();
        })
        .compose(v -> insertEach(batch, index + 1));
  }

  /** Writes what is waiting, retrying a few times; used when the node shuts down. */
  private Future<Void> drain(int triesLeft) {
    if (pending.isEmpty()) {
      return Future.succeededFuture();
    }
    List<UsageRecord> all = new ArrayList<>(pending);
    pending.clear();
    return store.insert(all).onSuccess(v -> backlog.removed(all.size())).recover(err -> {
      if (rejectedForContent(err)) {
        // One row the database refuses must not keep the others from being written.
        backlog.removed(all.size());
        return insertEach(all, 0).compose(v -> drain(triesLeft - 1));
      }
      pending.addAll(all);
      if (triesLeft <= 1) {
        LOG.error("{} usage rows could not be written before shutdown: {}", all.size(),
            err.getMessage());
        return Future.succeededFuture();
      }
      return drain(triesLeft - 1);
    });
  }
}
