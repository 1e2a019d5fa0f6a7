package io.flopex.ingress;

import io.flopex.config.FlopexConfig;
import io.flopex.db.AccountStore;
import io.flopex.db.UsageStore;
import io.vertx.sqlclient.Pool;

/** What every ingress instance shares: configuration, stores and node state. */
public record Services(
    FlopexConfig config,
    Pool pool,
    AccountStore accounts,
    UsageStore usage,
    ApiKeyAuth auth,
    Readiness readiness) {}
