package io.flopex;

import io.flopex.billing.BillingVerticle;
import io.flopex.bus.Addresses;
import io.flopex.bus.LocalCodec;
import io.flopex.config.FlopexConfig;
import io.flopex.config.ModelConfig;
import io.flopex.config.ProviderConfig;
import io.flopex.db.AccountStore;
import io.flopex.db.BillingRecords;
import io.flopex.db.Database;
import io.flopex.db.Migrations;
import io.flopex.db.UsageStore;
import io.flopex.db.KeyCounters;
import io.flopex.db.StripeStore;
import io.flopex.db.Wallet;
import io.flopex.ingress.AccountAuth;
import io.flopex.ingress.Billing;
import io.flopex.ingress.Limits;
import io.flopex.ingress.ApiKeyAuth;
import io.flopex.ingress.InFlight;
import io.flopex.ingress.IngressVerticle;
import io.flopex.ingress.Readiness;
import io.flopex.ingress.Refusals;
import io.flopex.ingress.Services;
import io.flopex.metrics.NodeMetrics;
import io.flopex.metrics.ScrapeHandler;
import io.flopex.provider.ProviderVerticle;
import io.flopex.retention.RetentionVerticle;
import io.flopex.routing.RoutingVerticle;
import io.flopex.usage.UsageBacklog;
import io.flopex.usage.UsageVerticle;
import io.vertx.core.Deployable;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.bridge.BridgeOptions;
import io.vertx.ext.bridge.PermittedOptions;
import io.vertx.ext.eventbus.bridge.tcp.TcpEventBusBridge;
import io.vertx.sqlclient.Pool;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running Flopex node: the database, the event bus codecs and every verticle. {@link Main}
 * starts it from the command line; tests start it in-process.
 */
public final class Flopex {

  private static final Logger LOG = LoggerFactory.getLogger(Flopex.class);

  private final Vertx vertx;
  private final Database database;
  private final Pool pool;
  private final Pool countersPool;
  private final Readiness readiness;
  private final List<String> deployments;
  private final int port;
  private final RetentionVerticle retention;
  private final FlopexConfig.Server server;
  private final InFlight inFlight;
  private final Limits limits;
  private final TcpEventBusBridge bridge;
  private final Promise<Void> closed = Promise.promise();
  private final NodeMetrics metrics;
  private final HttpServer metricsServer;

  private Flopex(Vertx vertx, Database database, Pool pool, Pool countersPool, Readiness readiness,
      List<String> deployments, int port, RetentionVerticle retention,
      FlopexConfig.Server server, Services services, TcpEventBusBridge bridge,
      NodeMetrics metrics, HttpServer metricsServer) {
    this.bridge = bridge;
    this.inFlight = services.inFlight();
    this.limits = services.limits();
    this.server = server;
    this.metrics = metrics;
    this.metricsServer = metricsServer;
    this.vertx = vertx;
    this.database = database;
    this.pool = pool;
    this.countersPool = countersPool;
    this.readiness = readiness;
    this.deployments = deployments;
    this.port = port;
    this.retention = retention;
  }

  /**
   * Opens the database (starting the embedded server if none is configured, which blocks a
   * worker thread for a few seconds), applies migrations and deploys every verticle.
   */
  public static Future<Flopex> start(Vertx vertx, FlopexConfig config, Clock clock) {
    LocalCodec.registerAll(vertx.eventBus());
    Readiness readiness = new Readiness();
    return vertx.executeBlocking(() -> {
          Files.createDirectories(config.dataDir());
          return Database.open(config.database(), config.dataDir());
        })
        .compose(database -> {
          Pool pool = database.pool(vertx, config.database().poolSize());
          Pool counters = database.relaxedPool(vertx,
              Math.max(2, config.database().poolSize() / 2));
          return Migrations.apply(pool)
              .compose(applied -> vertx.executeBlocking(() -> adminToken(config)))
              .compose(token -> AccountAuth.create(vertx, config.auth(), new AccountStore(pool))
                  .compose(auth -> deploy(vertx, config, clock, database, pool, counters, readiness,
                      token, auth)))
              .onFailure(err -> {
                pool.close();
                counters.close();
                database.close();
              });
        })
        .onSuccess(flopex -> {
          readiness.markDeployed();
          LOG.info("Flopex listening on port {}", flopex.port);
          LOG.info("Database: {}", flopex.database.description());
          LOG.info("Providers: {}", config.providers().isEmpty() ? "none"
              : config.providers().stream().map(p -> p.id() + " (" + p.kind().configName() + ")")
                  .collect(Collectors.joining(", ")));
          LOG.info("Models: {}", config.models().isEmpty() ? "none"
              : config.models().stream().map(ModelConfig::id).collect(Collectors.joining(", ")));
        });
  }

  private static Future<Flopex> deploy(Vertx vertx, FlopexConfig config, Clock clock,
      Database database, Pool pool, Pool countersPool, Readiness readiness, String adminToken,
      AccountAuth accountAuth) {
    NodeMetrics metrics = NodeMetrics.of(vertx, config.metrics());
    if (config.metrics().enabled() && !metrics.vertxMetrics()) {
      LOG.info("Metrics: Flopex's own only; this Vert.x instance was built without its metrics");
    }
    List<String> ids = new ArrayList<>();
    AccountStore accounts = new AccountStore(pool);
    UsageStore usage = new UsageStore(pool);
    Wallet wallet = new Wallet(pool);
    Services services = new Services(config, pool, accounts, usage, new ApiKeyAuth(accounts),
        readiness, wallet,
        config.billing().enabled() ? new Billing(vertx, wallet, config.billing()) : null,
        new StripeStore(pool), accountAuth,
        new Limits(new KeyCounters(vertx, countersPool, metrics.registry()),
            config.billing().defaultMaxOutputTokens()),
        new InFlight(), metrics, new Refusals(metrics.registry()),
        new UsageBacklog(config.usage().maxPending()));
    RetentionVerticle retention = new RetentionVerticle(usage, new BillingRecords(pool),
        config.retention(), clock);
    Future<Void> chain = deployOne(vertx, ids, new UsageVerticle(usage, config, metrics.registry(),
        services.usageBacklog()))
        .compose(v -> deployOne(vertx, ids, retention))
        .compose(v -> config.billing().enabled()
            ? deployOne(vertx, ids, new BillingVerticle(wallet, config.billing()))
            : Future.<Void>succeededFuture())
        .compose(v -> deployOne(vertx, ids, new RoutingVerticle(config, clock, metrics.registry())));
    for (ProviderConfig provider : config.providers()) {
      chain = chain.compose(v -> deployOne(vertx, ids,
          new ProviderVerticle(provider, config.server().maxSseEventBytes())));
    }
    int instances = config.server().instances() > 0 ? config.server().instances()
        : VertxOptions.DEFAULT_EVENT_LOOP_POOL_SIZE;
    List<IngressVerticle> ingress = new ArrayList<>();
    HttpServer[] metricsServer = new HttpServer[1];
    return chain
        .compose(v -> vertx.deployVerticle(() -> {
          IngressVerticle verticle = new IngressVerticle(services, adminToken);
          synchronized (ingress) {
            ingress.add(verticle);
          }
          return verticle;
        }, new DeploymentOptions().setInstances(instances)
            .setThreadingModel(ThreadingModel.EVENT_LOOP)))
        .compose(id -> {
          ids.add(id);
          return metricsServer(vertx, config.metrics(), metrics, adminToken);
        })
        .compose(server -> {
          metricsServer[0] = server;
          return bridge(vertx, config.bridge());
        })
        .map(bridge -> new Flopex(vertx, database, pool, countersPool, readiness, ids,
            ingress.get(0).actualPort(), retention, config.server(), services,
            bridge, metrics, metricsServer[0]))
        .onFailure(err -> {
          if (metricsServer[0] != null) {
            metricsServer[0].close();
          }
        });
  }

  /**
   * A listener of its own for {@code GET /metrics}, when {@code metrics.port} is set, so that the
   * scrape can stay on an interface clients do not reach.
   */
  private static Future<HttpServer> metricsServer(Vertx vertx, FlopexConfig.Metrics config,
      NodeMetrics metrics, String adminToken) {
    if (!config.ownPort()) {
      return Future.succeededFuture();
    }
    ScrapeHandler scrape = new ScrapeHandler(metrics.prometheus(),
        config.requireAdminToken() ? adminToken : null);
    return vertx.createHttpServer()
        .requestHandler(request -> {
          if (request.method() == HttpMethod.GET && "/metrics".equals(request.path())) {
            scrape.handle(request);
          } else {
            request.response().setStatusCode(404).end();
          }
        })
        .listen(config.port(), config.host())
        .recover(err -> Future.failedFuture(new IllegalStateException("metrics.host/metrics.port:"
            + " cannot listen on " + config.host() + ":" + config.port() + " ("
            + err.getMessage() + ")", err)))
        .onSuccess(server -> LOG.info("Metrics on {}:{}/metrics", config.host(),
            server.actualPort()));
  }

  /**
   * The TCP event-bus bridge, when enabled: consumers in any language may read the request and
   * health events, and nothing else; they may send nothing.
   */
  private static Future<TcpEventBusBridge> bridge(Vertx vertx, FlopexConfig.Bridge config) {
    if (!config.enabled()) {
      return Future.succeededFuture();
    }
    BridgeOptions options = new BridgeOptions()
        .addOutboundPermitted(new PermittedOptions().setAddress(Addresses.REQUESTS))
        .addOutboundPermitted(new PermittedOptions().setAddress(Addresses.HEALTH));
    return TcpEventBusBridge.create(vertx, options)
        .listen(config.port(), config.host())
        .recover(err -> Future.failedFuture(new IllegalStateException("bridge.host/bridge.port: "
            + "cannot listen on " + config.host() + ":" + config.port() + " (" + err.getMessage()
            + ")", err)))
        .onSuccess(b -> LOG.info("Event-bus bridge (read-only: {}, {}) on {}:{}",
            Addresses.REQUESTS, Addresses.HEALTH, config.host(), config.port()));
  }

  private static Future<Void> deployOne(Vertx vertx, List<String> ids,
      Deployable verticle) {
    return vertx.deployVerticle(verticle).map(id -> {
      ids.add(id);
      return null;
    });
  }

  /**
   * The admin token: {@code FLOPEX_ADMIN_TOKEN} when set, otherwise one generated on first start
   * and kept in {@code admin-token} in the data directory, readable only by its owner.
   */
  private static String adminToken(FlopexConfig config) {
    if (config.adminToken() != null) {
      return config.adminToken();
    }
    Path file = config.dataDir().toAbsolutePath().normalize().resolve("admin-token");
    try {
      if (Files.exists(file)) {
        String token = Files.readString(file, StandardCharsets.UTF_8).trim();
        if (token.length() >= 16) {
          LOG.info("Admin token: read from {}", file.toAbsolutePath());
          return token;
        }
      }
      byte[] bytes = new byte[32];
      new SecureRandom().nextBytes(bytes);
      String token = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
      try {
        // Created readable by its owner only, never briefly with the default permissions.
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(
            PosixFilePermissions.fromString("rw-------")));
      } catch (UnsupportedOperationException notPosix) {
        Files.createFile(file);
      }
      Files.writeString(file, token + "\n", StandardCharsets.UTF_8);
      LOG.info("Admin token: generated and written to {}", file.toAbsolutePath());
      return token;
    } catch (IOException e) {
      throw new UncheckedIOException("could not read or write " + file, e);
    }
  }

  /** Stops the embedded PostgreSQL, if this node runs one; safe to call more than once. */
  public void stopDatabase() {
    database.close();
  }

  /** The longest a clean shutdown may take: the drain delay, the grace period and a margin. */
  public long shutdownBudgetMs() {
    return server.drainDelayMs() + server.shutdownGraceMs() + BOOKKEEPING_MS + 20_000;
  }

  public int port() {
    return port;
  }

  public Vertx vertx() {
    return vertx;
  }

  public Pool pool() {
    return pool;
  }

  public RetentionVerticle retention() {
    return retention;
  }

  /** The node's meter registry and what serves it. */
  public NodeMetrics metrics() {
    return metrics;
  }

  /** The port of the metrics listener, or -1 when {@code /metrics} is on the main port or off. */
  public int metricsPort() {
    return metricsServer == null ? -1 : metricsServer.actualPort();
  }

  /** How long a shutdown waits for the charges and counts of finished requests to be written. */
  private static final long BOOKKEEPING_MS = 15_000;

  /**
   * Stops without losing anything metered: reports not-ready at once and keeps serving for
   * {@code server.drainDelayMs}, so that load balancers stop sending traffic; then stops
   * accepting and gives requests and streams in flight up to {@code server.shutdownGraceMs} to
   * finish; waits for their charges to be written; then stops the other verticles in reverse
   * order (the usage writer flushes what is waiting), reports the key-limit counts and gives
   * back the node's shares, and stops the database.
   */
  public Future<Void> close() {
    if (!readiness.markStopping()) {
      return closed.future();
    }
    List<String> reversed = new ArrayList<>(deployments);
    Collections.reverse(reversed);
    String ingress = reversed.isEmpty() ? null : reversed.remove(0);
    Future<Void> chain = server.drainDelayMs() == 0 ? Future.succeededFuture()
        : Future.future(p -> vertx.setTimer(server.drainDelayMs(), id -> p.complete()));
    chain = chain.compose(v -> bridge == null ? Future.<Void>succeededFuture()
        : bridge.close().recover(err -> Future.succeededFuture()));
    if (ingress != null) {
      chain = chain.compose(v -> vertx.undeploy(ingress).recover(err -> Future.succeededFuture()));
    }
    if (metricsServer != null) {
      chain = chain.compose(v -> metricsServer.close().recover(err -> Future.succeededFuture()));
    }
    chain = chain.compose(v -> inFlight.idle(vertx, BOOKKEEPING_MS).recover(err -> {
      LOG.warn("Shutting down with bookkeeping unfinished: {}", err.getMessage());
      return Future.succeededFuture();
    }));
    for (String id : reversed) {
      chain = chain.compose(v -> vertx.undeploy(id).recover(err -> Future.succeededFuture()));
    }
    chain
        .compose(v -> limits.close())
        .compose(v -> pool.close())
        .eventually(() -> countersPool.close())
        .onComplete(v -> metrics.close())
        .eventually(() -> vertx.executeBlocking(() -> {
          stopDatabase();
          return null;
        }))
        .<Void>mapEmpty()
        .onComplete(closed);
    return closed.future();
  }
}
