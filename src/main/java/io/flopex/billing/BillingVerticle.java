package io.flopex.billing;

import io.flopex.config.FlopexConfig;
import io.flopex.db.Wallet;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Looks after the wallets away from the request path: releases reservations left open by a node
 * that stopped before it could settle them, once they are older than any request can run.
 * Every node runs it; the release is one statement, so two nodes sweeping at once release each
 * reservation once.
 */
public final class BillingVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(BillingVerticle.class);
  static final long SWEEP_INTERVAL_MS = 60_000;

  private final Wallet wallet;
  private final FlopexConfig.Billing config;
  private long timer = -1;

  public BillingVerticle(Wallet wallet, FlopexConfig.Billing config) {
    this.wallet = wallet;
    this.config = config;
  }

  @Override
  public Future<?> start() {
    timer = vertx.setPeriodic(SWEEP_INTERVAL_MS, id -> sweep());
    return Future.succeededFuture();
  }

  /** Releases stale reservations now. */
  public Future<Integer> sweep() {
    return wallet.sweep(config.reservationTimeoutMs() / 1000)
        .onSuccess(n -> {
          if (n > 0) {
            LOG.warn("Released {} reservations left open by a stopped node; nothing was charged"
                + " for them", n);
          }
        })
        .onFailure(err -> LOG.warn("Could not sweep stale reservations: {}", err.getMessage()));
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    return Future.succeededFuture();
  }
}
