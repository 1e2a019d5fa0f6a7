package io.flopex.retention;

import io.flopex.config.FlopexConfig;
import io.flopex.db.UsageStore;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes usage metadata once it is older than the retention period, on a schedule: whole day
 * partitions are dropped, so a purge stays fast however many rows there are. It also creates
 * the partitions of the days ahead. In a cluster every node runs it; a node that finds another
 * purging skips its turn. The clock is injected so that tests can move time forward.
 */
public final class RetentionVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(RetentionVerticle.class);

  private final UsageStore store;
  private final FlopexConfig.Retention config;
  private final Clock clock;
  private long timer;

  public RetentionVerticle(UsageStore store, FlopexConfig.Retention config, Clock clock) {
    this.store = store;
    this.config = config;
    this.clock = clock;
  }

  @Override
  public Future<?> start() {
    timer = vertx.setPeriodic(config.intervalMs(), config.intervalMs(), id -> purge());
    return ensurePartitions().mapEmpty();
  }

  /** The day partitions of usage metadata from yesterday to a week ahead (UTC, real time). */
  Future<Integer> ensurePartitions() {
    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    return store.ensurePartitions(today.minusDays(1), today.plusDays(7));
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    return Future.succeededFuture();
  }

  /** Runs one purge now; the future holds how many rows were deleted. */
  public Future<Integer> purge() {
    Instant cutoff = clock.instant().minus(Duration.ofDays(config.usageDays()));
    return ensurePartitions()
        .compose(created -> store.purgeBefore(cutoff))
        .onSuccess(n -> {
          if (n > 0) {
            LOG.info("Retention removed {} usage rows older than {}", n, cutoff);
          }
        })
        .onFailure(err -> LOG.warn("Retention purge failed: {}", err.getMessage()));
  }
}
