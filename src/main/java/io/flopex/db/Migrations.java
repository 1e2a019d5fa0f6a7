package io.flopex.db;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the versioned SQL scripts under {@code db/migration} in order, each once, each in its
 * own transaction. A PostgreSQL advisory lock makes nodes that start together take turns, so a
 * cluster never applies a script twice.
 */
public final class Migrations {

  private static final Logger LOG = LoggerFactory.getLogger(Migrations.class);
  /** The scripts, in order. A new script is appended here and never edited once released. */
  static final List<String> SCRIPTS = List.of("V1__core.sql", "V2__cache_write_tokens.sql",
      "V3__wallet.sql", "V4__stripe.sql", "V5__account_api.sql", "V6__key_limits.sql",
      "V7__exact_charges.sql", "V8__usage_partitions.sql", "V9__erasure.sql",
      "V10__billing_retention.sql", "V11__key_admission.sql",
      "V12__wallet_batches.sql", "V13__key_leases.sql");
  private static final long LOCK_KEY = 0x466c6f706578L;

  private Migrations() {}

  public static Future<Integer> apply(Pool pool) {
    return apply(pool, SCRIPTS.size());
  }

  /** Applies the first {@code count} scripts only: for testing an upgrade from an older schema. */
  static Future<Integer> apply(Pool pool, int count) {
    List<String> scripts = SCRIPTS.subList(0, count);
    return pool.withTransaction(conn -> conn
        .query("SELECT pg_advisory_xact_lock(" + LOCK_KEY + ")").execute()
        .compose(v -> conn.query("SELECT to_regclass('flopex_schema_history') IS NOT NULL")
            .execute())
        .compose(rows -> rows.iterator().next().getBoolean(0) ? Future.succeededFuture()
            : conn.query("CREATE TABLE flopex_schema_history (version text PRIMARY KEY,"
                + " applied_at timestamptz NOT NULL DEFAULT now())").execute().mapEmpty())
        .compose(v -> conn.query("SELECT version FROM flopex_schema_history").execute())
        .compose(rows -> {
          Set<String> applied = new HashSet<>();
          for (Row row : rows) {
            applied.add(row.getString(0));
          }
          List<String> pending = new ArrayList<>();
          for (String script : scripts) {
            if (!applied.contains(script)) {
              pending.add(script);
            }
          }
          return applyAll(conn, pending, 0).map(pending.size());
        }));
  }

  private static Future<Void> applyAll(SqlConnection conn, List<String> pending, int index) {
    if (index == pending.size()) {
      return Future.succeededFuture();
    }
    String script = pending.get(index);
    return conn.query(read(script)).execute()
        .compose(v -> conn.preparedQuery("INSERT INTO flopex_schema_history (version) VALUES ($1)")
            .execute(Tuple.of(script)))
        .onSuccess(v -> LOG.info("Applied database migration {}", script))
        .compose(v -> applyAll(conn, pending, index + 1));
  }

  private static String read(String script) {
    try (InputStream in = Migrations.class.getResourceAsStream("/db/migration/" + script)) {
      if (in == null) {
        throw new IllegalStateException("migration " + script + " is missing from the jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
