package io.flopex.db;

import io.flopex.config.ConfigException;
import io.flopex.config.FlopexConfig;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where Flopex keeps its data: the PostgreSQL server named by the configuration, or, when none is
 * named, a real PostgreSQL that Flopex runs itself with its files under the data directory, so
 * that its contents survive restarts.
 */
public final class Database implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Database.class);

  private final PgConnectOptions connectOptions;
  private final EmbeddedPostgres embedded;
  private final String description;
  private boolean closed;

  private Database(PgConnectOptions connectOptions, EmbeddedPostgres embedded, String description) {
    this.connectOptions = connectOptions;
    this.embedded = embedded;
    this.description = description;
  }

  /** Blocks while an embedded server starts; call it before serving traffic. */
  public static Database open(FlopexConfig.Database config, Path dataDir) {
    if (config.url() != null) {
      PgConnectOptions options;
      try {
        options = PgConnectOptions.fromUri(config.url());
      } catch (RuntimeException e) {
        throw new ConfigException("FLOPEX_DATABASE_URL: not a postgresql://user:pass@host:port/db"
            + " URL");
      }
      return new Database(options, null,
          "external PostgreSQL at " + options.getHost() + ":" + options.getPort() + "/"
              + options.getDatabase());
    }
    Path dir = dataDir.toAbsolutePath().normalize().resolve("postgres");
    try {
      Files.createDirectories(dir);
      stopOrphan(dir);
      String password = password(dataDir.toAbsolutePath().normalize().resolve("postgres-password"));
      EmbeddedPostgres pg = EmbeddedPostgres.builder()
          .setDataDirectory(dir)
          .setCleanDataDirectory(false)
          .setRegisterShutdownHook(false)
          .setConnectConfig("password", password)
          // The library tunes PostgreSQL for throwaway test data; these are durable data.
          .setServerConfig("fsync", "on")
          .setServerConfig("synchronous_commit", "on")
          .setServerConfig("full_page_writes", "on")
          .start();
      requirePassword(pg, dir, password);
      PgConnectOptions options = new PgConnectOptions()
          .setHost("127.0.0.1")
          .setPort(pg.getPort())
          .setDatabase("postgres")
          .setUser("postgres")
          .setPassword(password);
      return new Database(options, pg, "embedded PostgreSQL in " + dir + " on port " + pg.getPort());
    } catch (IOException e) {
      throw new UncheckedIOException("could not start the embedded PostgreSQL in " + dir, e);
    }
  }

  /** The embedded server's password, generated on first start and readable by its owner only. */
  private static String password(Path file) throws IOException {
    if (Files.exists(file)) {
      String existing = Files.readString(file, StandardCharsets.UTF_8).trim();
      if (!existing.isEmpty()) {
        return existing;
      }
      Files.delete(file);
    }
    byte[] bytes = new byte[24];
    new SecureRandom().nextBytes(bytes);
    String password = HexFormat.of().formatHex(bytes);
    try {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(
          PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException notPosix) {
      Files.createFile(file);
    }
    Files.writeString(file, password + "\n", StandardCharsets.UTF_8);
    return password;
  }

  /**
   * The embedded server starts out trusting every local connection, which would let any user of
   * the machine in as superuser. On first start, set the password and require it from then on.
   */
  private static void requirePassword(EmbeddedPostgres pg, Path dir, String password)
      throws IOException {
    Path hba = dir.resolve("pg_hba.conf");
    String rules = Files.readString(hba, StandardCharsets.UTF_8);
    if (!rules.lines().anyMatch(line -> !line.startsWith("#") && line.contains("trust"))) {
      return;
    }
    try (Connection c = pg.getPostgresDatabase().getConnection();
        Statement s = c.createStatement()) {
      s.execute("SET password_encryption = 'scram-sha-256'");
      s.execute("ALTER USER postgres PASSWORD '" + password + "'");
      StringBuilder secured = new StringBuilder();
      for (String line : rules.lines().toList()) {
        secured.append(line.startsWith("#") ? line : line.replace("trust", "scram-sha-256"))
            .append('\n');
      }
      Files.writeString(hba, secured.toString(), StandardCharsets.UTF_8);
      s.execute("SELECT pg_reload_conf()");
    } catch (SQLException e) {
      throw new IOException("could not secure the embedded PostgreSQL", e);
    }
  }

  /**
   * Stops a PostgreSQL left running on this data directory by a Flopex that was killed without
   * a chance to stop it; otherwise the new server could not take the directory's lock.
   */
  private static void stopOrphan(Path dir) throws IOException {
    Path pidFile = dir.resolve("postmaster.pid");
    if (!Files.exists(pidFile)) {
      return;
    }
    long pid;
    try {
      pid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
    } catch (RuntimeException e) {
      return;
    }
    Optional<ProcessHandle> process = ProcessHandle.of(pid)
        .filter(ProcessHandle::isAlive)
        .filter(p -> p.info().commandLine().map(c -> c.contains(dir.toString())).orElse(false));
    if (process.isEmpty()) {
      return;
    }
    LOG.warn("Stopping the embedded PostgreSQL (pid {}) that a previous run left behind", pid);
    ProcessHandle orphan = process.get();
    orphan.destroy();
    try {
      orphan.onExit().get(30, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      orphan.destroyForcibly();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException e) {
      throw new IOException(e);
    }
  }

  public Pool pool(Vertx vertx, int size) {
    return pool(vertx, size, connectOptions);
  }

  /**
   * A pool whose transactions commit without waiting for their WAL to reach the disk
   * ({@code synchronous_commit = off}), for counts that are rewritten many times a second and
   * whose last fraction of a second may be forgotten by a crash of PostgreSQL itself; never
   * for money. PostgreSQL still never loses consistency: a crash keeps a prefix of the commits.
   */
  public Pool relaxedPool(Vertx vertx, int size) {
    return pool(vertx, size,
        new PgConnectOptions(connectOptions).addProperty("synchronous_commit", "off")
            // A call that waits longer (on a key's row held by a stuck session) fails rather
            // than hold the key's requests on this node indefinitely.
            .addProperty("statement_timeout", "5000"));
  }

  private static Pool pool(Vertx vertx, int size, PgConnectOptions options) {
    return PgBuilder.pool()
        .with(new PoolOptions().setMaxSize(size).setShared(false)
            .setConnectionTimeout(5).setConnectionTimeoutUnit(TimeUnit.SECONDS))
        .connectingTo(options)
        .using(vertx)
        .build();
  }

  /** Says where the data lives, without any password. */
  public String description() {
    return description;
  }

  @Override
  public synchronized void close() {
    if (embedded != null && !closed) {
      closed = true;
      try {
        embedded.close();
      } catch (IOException e) {
        LOG.warn("The embedded PostgreSQL did not stop cleanly: {}", e.getMessage());
      }
    }
  }
}
