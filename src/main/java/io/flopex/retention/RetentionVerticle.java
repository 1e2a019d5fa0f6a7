package io.flopex.retention;

import io.flopex.config.FlopexConfig;
import io.flopex.db.BillingRecords;
import io.flopex.db.UsageStore;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes usage metadata once it is older than its retention period, on a schedule: whole day
 * partitions are dropped, so a purge stays fast however many rows there are. It also creates
 * the partitions of the days ahead. Billing records have a longer period of their own: ledger
 * entries past it are folded into one carried-forward entry per account, and Stripe events and
 * payments past it are deleted. In a cluster every node runs it; a node that finds another
 * purging skips its turn. The clock is injected so that tests can move time forward.
 */
public final class RetentionVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(RetentionVerticle.class);

  private static final long FIRST_PURGE_MS = 60_000;

  private final UsageStore store;
  private final BillingRecords billing;
  private final FlopexConfig.Retention config;
  private final Clock clock;
  private long timer;

  public RetentionVerticle(UsageStore store, BillingRecords billing,
      FlopexConfig.Retention config, Clock clock) {
    this.store = store;
    this.billing = billing;
    this.config = config;
    this.clock = clock;
  }

  @Override
  public Future<?> start() {
    // The first purge a minute after start, so that nodes restarted more often than the
    // interval still purge.
    timer = vertx.setPeriodic(Math.min(FIRST_PURGE_MS, config.intervalMs()),
        config.intervalMs(), id -> purge().onComplete(v -> purgeBilling()));
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

  /** Runs one purge of usage metadata now; the future holds how many rows were deleted. */
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

  /**
   * Runs one purge of billing records now: those older than {@code retention.ledgerYears},
   * counted back from the clock's time in UTC.
   */
  public Future<BillingRecords.Purged> purgeBilling() {
    Instant cutoff = ZonedDateTime.ofInstant(clock.instant(), ZoneOffset.UTC)
        .minusYears(config.ledgerYears()).toInstant();
    return billing.purgeBefore(cutoff)
        .onSuccess(purged -> {
          if (purged.any()) {
            LOG.info("Retention folded {} ledger entries of {} accounts into carried-forward"
                + " balances and removed {} Stripe events and {} Stripe payments older than {}",
                purged.ledgerEntries(), purged.accounts(), purged.stripeEvents(),
                purged.stripePayments(), cutoff);
          }
        })
        .onFailure(err -> LOG.warn("Retention of billing records failed: {}", err.getMessage()));
  }
}
