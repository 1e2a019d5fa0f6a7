package io.flopex.bench;

import io.flopex.db.Migrations;
import io.flopex.db.UsageStore;
import io.flopex.testing.Sync;
import io.flopex.testing.TestPostgres;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A 90-day purge with 5 million usage rows spread over 120 days: dropping the old day
 * partitions, against deleting the same rows from an unpartitioned copy of the table.
 *
 * <p>Run with {@code mvn test -Dflopex.benchmarks=none -Dtest=PurgeBenchmark}; results go to
 * stdout and {@code target/purge.txt}.
 */
@Tag("benchmark")
class PurgeBenchmark {

  private static final int ROWS = Integer.getInteger("rows", 5_000_000);
  private static final int DAYS = 120;

  /** Loading millions of rows takes longer than the test suite's usual wait. */
  private static <T> T slow(io.vertx.core.Future<T> future) {
    try {
      return future.toCompletionStage().toCompletableFuture()
          .get(30, java.util.concurrent.TimeUnit.MINUTES);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void purge() {
    Vertx vertx = Vertx.vertx();
    Pool pool = PgBuilder.pool().connectingTo(PgConnectOptions.fromUri(
            TestPostgres.newDatabaseUrl()))
        .with(new PoolOptions().setMaxSize(2)).using(vertx).build();
    try {
      slow(Migrations.apply(pool));
      UsageStore store = new UsageStore(pool);
      LocalDate today = LocalDate.now(ZoneOffset.UTC);
      slow(store.ensurePartitions(today.minusDays(DAYS), today));
      long loading = System.nanoTime();
      slow(pool.query("INSERT INTO usage_events (id, request_id, created_at, account_id,"
          + " key_id, model, provider, upstream_model, streamed, outcome, status, attempts,"
          + " prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens,"
          + " tokens_estimated, cost_micros, latency_ms, ttfb_ms)"
          + " SELECT gen_random_uuid(), 'req-' || g,"
          + " now() - make_interval(days => g % " + DAYS + ", secs => g % 86000),"
          + " gen_random_uuid(), gen_random_uuid(), 'model', 'provider', 'upstream', false,"
          + " 'success', 200, '[{\"provider\":\"p\",\"outcome\":\"success\"}]', 100, 200, 0, 0,"
          + " false, 450, 800, 120 FROM generate_series(1, " + ROWS + ") g").execute());
      long loaded = System.nanoTime() - loading;
      slow(pool.query("CREATE TABLE usage_plain AS SELECT * FROM usage_events").execute());
      slow(pool.query("CREATE INDEX ON usage_plain (created_at)").execute());
      slow(pool.query("CREATE INDEX ON usage_plain (account_id, created_at DESC)")
          .execute());
      slow(pool.query("VACUUM ANALYZE").execute());
      Instant cutoff = Instant.now().minusSeconds(90L * 86_400);

      long dropping = System.nanoTime();
      int dropped = slow(store.purgeBefore(cutoff));
      long dropMs = (System.nanoTime() - dropping) / 1_000_000;

      long deleting = System.nanoTime();
      int deleted = slow(pool.preparedQuery("DELETE FROM usage_plain WHERE created_at < $1")
          .execute(io.vertx.sqlclient.Tuple.of(cutoff.atOffset(ZoneOffset.UTC)))).rowCount();
      long deleteMs = (System.nanoTime() - deleting) / 1_000_000;

      String report = String.format("Purge of usage older than 90 days, %,d rows over %d days"
              + " (loaded in %d s)%n  partitioned, dropping whole days: %,d rows in %d ms%n"
              + "  unpartitioned, DELETE with an index:  %,d rows in %d ms%n",
          ROWS, DAYS, loaded / 1_000_000_000, dropped, dropMs, deleted, deleteMs);
      System.out.print(report);
      Files.writeString(Path.of("target", "purge.txt"), report, StandardCharsets.UTF_8);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } finally {
      slow(pool.close());
      slow(vertx.close());
    }
  }
}
