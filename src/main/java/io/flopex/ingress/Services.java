package io.flopex.ingress;

import io.flopex.config.FlopexConfig;
import io.flopex.db.AccountStore;
import io.flopex.db.UsageStore;
import io.flopex.db.StripeStore;
import io.flopex.db.Wallet;
import io.flopex.metrics.NodeMetrics;
import io.flopex.usage.UsageBacklog;
import io.vertx.sqlclient.Pool;

/**
 * What every ingress instance shares: configuration, stores and node state. {@code billing} is
 * null when wallets are off.
 */
public record Services(
    FlopexConfig config,
    Pool pool,
    AccountStore accounts,
    UsageStore usage,
    ApiKeyAuth auth,
    Readiness readiness,
    Wallet wallet,
    Billing billing,
    StripeStore stripe,
    AccountAuth accountAuth,
    Limits limits,
    InFlight inFlight,
    NodeMetrics metrics,
    Refusals refusals,
    UsageBacklog usageBacklog) {}
