package io.flopex.testing;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One real PostgreSQL for the whole test run, started on first use and stopped when the JVM
 * exits. Every gateway a test starts gets a database of its own.
 */
public final class TestPostgres {

  private static final AtomicInteger COUNTER = new AtomicInteger();
  private static EmbeddedPostgres server;

  private TestPostgres() {}

  private static synchronized EmbeddedPostgres server() {
    if (server == null) {
      try {
        Path dir = Files.createTempDirectory("flopex-test-pg");
        server = EmbeddedPostgres.builder()
            .setDataDirectory(dir)
            .setCleanDataDirectory(true)
            .setRegisterShutdownHook(true)
            .start();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return server;
  }

  /** Creates an empty database and returns its URL in the form Flopex is configured with. */
  public static String newDatabaseUrl() {
    EmbeddedPostgres pg = server();
    String name = "flopex_test_" + COUNTER.incrementAndGet();
    try (Connection c = pg.getPostgresDatabase().getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException("could not create test database " + name, e);
    }
    return "postgresql://postgres@127.0.0.1:" + pg.getPort() + "/" + name;
  }

  /**
   * Makes a test database unreachable (new connections refused, open ones ended) or reachable
   * again, as a database outage looks to the gateway.
   */
  public static void reachable(String databaseUrl, boolean reachable) {
    String name = databaseUrl.substring(databaseUrl.lastIndexOf('/') + 1);
    try (Connection c = server().getPostgresDatabase().getConnection();
        Statement s = c.createStatement()) {
      s.execute("ALTER DATABASE " + name + " ALLOW_CONNECTIONS " + reachable);
      if (!reachable) {
        s.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '"
            + name + "'");
      }
    } catch (SQLException e) {
      throw new IllegalStateException("could not change database " + name, e);
    }
  }
}
