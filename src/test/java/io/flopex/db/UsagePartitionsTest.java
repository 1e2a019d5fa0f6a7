package io.flopex.db;

import static org.assertj.core.api.Assertions.assertThat;

import io.flopex.testing.Sync;
import io.flopex.testing.TestPostgres;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Usage metadata lives in one partition per UTC day: upgrading keeps the rows already stored,
 * and a purge drops whole days, once, whichever nodes run it.
 */
class UsagePartitionsTest {

  private Vertx vertx;
  private Pool pool;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    pool = PgBuilder.pool().connectingTo(PgConnectOptions.fromUri(TestPostgres.newDatabaseUrl()))
        .with(new PoolOptions().setMaxSize(4)).using(vertx).build();
  }

  @AfterEach
  void stop() {
    Sync.await(pool.close());
    Sync.await(vertx.close());
  }

  private long count(String sql) {
    return Sync.await(pool.query(sql).execute()).iterator().next().getLong(0);
  }

  private void insertUsage(int daysAgo, int rows) {
    Sync.await(pool.query("INSERT INTO usage_events (id, request_id, created_at, account_id,"
        + " key_id, streamed, outcome, status, attempts, prompt_tokens, completion_tokens,"
        + " cached_tokens, reasoning_tokens, tokens_estimated, cost_micros, latency_ms, ttfb_ms)"
        + " SELECT gen_random_uuid(), 'r' || g, now() - interval '" + daysAgo + " days',"
        + " gen_random_uuid(), gen_random_uuid(), false, 'success', 200, '[]', 1, 1, 0, 0, false,"
        + " 1, 1, 0 FROM generate_series(1, " + rows + ") g").execute());
  }

  @Test
  void upgradingKeepsEveryRowAlreadyStoredInItsDay() {
    assertThat(Sync.await(Migrations.apply(pool,
        Migrations.SCRIPTS.indexOf("V8__usage_partitions.sql")))).isPositive();
    insertUsage(40, 3);
    insertUsage(1, 2);
    insertUsage(0, 1);

    Sync.await(Migrations.apply(pool));

    assertThat(count("SELECT count(*) FROM usage_events")).isEqualTo(6);
    assertThat(count("SELECT count(*) FROM usage_events_default")).isZero();
    String fortyDaysAgo = LocalDate.now(ZoneOffset.UTC).minusDays(40).toString()
        .replace("-", "");
    assertThat(count("SELECT count(*) FROM usage_events_p" + fortyDaysAgo)).isEqualTo(3);
  }

  @Test
  void aPurgeDropsWholeDaysAndTheLedgerStays() {
    Sync.await(Migrations.apply(pool));
    UsageStore store = new UsageStore(pool);
    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    Sync.await(store.ensurePartitions(today.minusDays(120), today));
    insertUsage(100, 5);
    insertUsage(95, 4);
    insertUsage(10, 3);
    Sync.await(pool.query("INSERT INTO accounts (id, email, balance_micros) VALUES ('"
        + UUID.randomUUID() + "', 'a@example.com', 0)").execute());
    Sync.await(pool.query("INSERT INTO ledger (account_id, kind, amount_micros, created_at)"
        + " SELECT id, 'top_up', 5, now() - interval '100 days' FROM accounts").execute());

    int purged = Sync.await(store.purgeBefore(Instant.now().minusSeconds(90L * 86_400)));

    assertThat(purged).isEqualTo(9);
    assertThat(count("SELECT count(*) FROM usage_events")).isEqualTo(3);
    assertThat(count("SELECT count(*) FROM ledger")).isEqualTo(1);
    String hundredDaysAgo = today.minusDays(100).toString().replace("-", "");
    assertThat(count("SELECT count(*) FROM pg_class WHERE relname = 'usage_events_p"
        + hundredDaysAgo + "'")).isZero();
  }

  @Test
  void twoNodesPurgingAtOnceRemoveEachRowOnce() {
    Sync.await(Migrations.apply(pool));
    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    UsageStore one = new UsageStore(pool);
    UsageStore other = new UsageStore(pool);
    Sync.await(one.ensurePartitions(today.minusDays(100), today));
    insertUsage(99, 7);
    insertUsage(98, 5);
    Instant cutoff = Instant.now().minusSeconds(90L * 86_400);

    Future<Integer> a = one.purgeBefore(cutoff);
    Future<Integer> b = other.purgeBefore(cutoff);
    Sync.await(Future.join(a, b));

    assertThat(a.result() + b.result()).isEqualTo(12);
    assertThat(count("SELECT count(*) FROM usage_events")).isZero();
  }

  @Test
  void rowsOfADayWithoutAPartitionLandInTheDefaultAndArePurgedToo() {
    Sync.await(Migrations.apply(pool));
    insertUsage(200, 4);
    assertThat(count("SELECT count(*) FROM usage_events_default")).isEqualTo(4);

    int purged = Sync.await(new UsageStore(pool).purgeBefore(
        Instant.now().minusSeconds(90L * 86_400)));

    assertThat(purged).isEqualTo(4);
    assertThat(count("SELECT count(*) FROM usage_events")).isZero();
  }
}
