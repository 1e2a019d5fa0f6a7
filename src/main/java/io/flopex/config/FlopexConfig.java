package io.flopex.config;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** The whole, validated configuration of one Flopex node. */
public record FlopexConfig(
    Server server,
    Database database,
    Path dataDir,
    String adminToken,
    Routing routing,
    Usage usage,
    Retention retention,
    Cluster cluster,
    Bridge bridge,
    Metrics metrics,
    Billing billing,
    Stripe stripe,
    Auth auth,
    List<ProviderConfig> providers,
    List<ModelConfig> models) {

  /**
   * HTTP ingress settings. {@code instances} of 0 means one per event loop. On shutdown the node
   * first reports not-ready for {@code drainDelayMs} while still serving, then stops accepting and
   * gives requests in flight up to {@code shutdownGraceMs} to finish.
   */
  public record Server(
      String host,
      int port,
      long maxBodyBytes,
      long bodyTimeoutMs,
      int maxSseEventBytes,
      int instances,
      long shutdownGraceMs,
      long drainDelayMs) {}

  /** An external PostgreSQL URL, or {@code null} to run the embedded server. */
  public record Database(String url, int poolSize) {

    @Override
    public String toString() {
      return url == null ? "embedded" : "external";
    }
  }

  /**
   * Bounds on how a request moves between endpoints, how long a full one rests, and when an
   * endpoint's circuit breaker opens.
   */
  public record Routing(int maxAttempts, long defaultCooldownMs, Breaker breaker) {

    public Routing(int maxAttempts, long defaultCooldownMs) {
      this(maxAttempts, defaultCooldownMs, Breaker.DEFAULTS);
    }
  }

  /**
   * An endpoint's circuit opens after {@code failures} failures in a row within {@code windowMs},
   * and lets one real request through to try it again after {@code resetMs}.
   */
  public record Breaker(int failures, long windowMs, long resetMs) {

    public static final Breaker DEFAULTS = new Breaker(5, 10_000, 30_000);
  }

  /**
   * Joining a Vert.x cluster through Hazelcast. {@code host} is the address this node binds and
   * advertises (null: let Hazelcast choose an interface); {@code port} the first Hazelcast port
   * tried, counting up when taken; {@code members} the TCP-IP addresses of other nodes;
   * {@code eventBusPort} the event bus's TCP port (0: a free one).
   */
  public record Cluster(boolean enabled, String name, String host, int port,
      List<String> members, boolean multicast, int eventBusPort) {

    public static final Cluster OFF =
        new Cluster(false, "flopex", null, 5701, List.of(), false, 0);

    public Cluster(boolean enabled, String name, String host, int port, List<String> members,
        boolean multicast) {
      this(enabled, name, host, port, members, multicast, 0);
    }
  }

  /**
   * Prepaid wallets. With {@code enabled}, every request reserves its worst-case cost from the
   * account's wallet before it is sent, and is refused with 402 when the wallet does not cover
   * it. A reservation still open after {@code reservationTimeoutMs} belonged to a node that
   * stopped without settling it, and is released. {@code defaultMaxOutputTokens} is the output
   * assumed for a request that sets no limit, on a model with no {@code maxOutputTokens}.
   */
  public record Billing(boolean enabled, long reservationTimeoutMs, long defaultMaxOutputTokens) {

    public static final Billing OFF = new Billing(false, 3 * 3_600_000, 4096);
  }

  /**
   * Stripe: the secret API key (for Checkout Sessions), the webhook endpoint's signing secret,
   * the API base URL (Stripe's own unless pointed elsewhere, e.g. at a test double), and where
   * Checkout sends the buyer back. Unset secrets turn the matching feature off.
   */
  public record Stripe(String secretKey, String webhookSecret, String apiBase, String successUrl,
      String cancelUrl) {

    public static final Stripe OFF = new Stripe(null, null, "https://api.stripe.com", null, null);

    @Override
    public String toString() {
      return "Stripe[checkout=" + (secretKey != null) + ", webhooks=" + (webhookSecret != null)
          + "]";
    }
  }

  /**
   * Tokens for the account API. Flopex signs its own (HS256) with {@code tokenSecret}, or, when
   * that is unset, with a secret generated once and kept in the database so every node shares
   * it; they last {@code tokenTtlSeconds}. {@code external}, when set, also accepts tokens from
   * an identity provider.
   */
  public record Auth(String tokenSecret, int tokenTtlSeconds, External external) {

    public static final Auth DEFAULTS = new Auth(null, 900, null);

    @Override
    public String toString() {
      return "Auth[ttl=" + tokenTtlSeconds + ", external=" + (external != null) + "]";
    }
  }

  /**
   * An identity provider whose tokens the account API accepts: signed by {@code publicKey}
   * (PEM, RS256) or one of the {@code jwks} keys, from {@code issuer}, for {@code audience}, with
   * the Flopex account id in the claim {@code accountClaim}.
   */
  public record External(String issuer, String audience, String publicKey,
      List<io.vertx.core.json.JsonObject> jwks, String accountClaim) {}

  /** The read-only TCP event-bus bridge for metrics consumers; off unless enabled. */
  public record Bridge(boolean enabled, String host, int port) {

    public static final Bridge OFF = new Bridge(false, "127.0.0.1", 7001);
  }

  /**
   * Prometheus metrics: with {@code enabled}, the node records its meters and serves them at
   * {@code GET /metrics}, on the main port, or, when {@code port} is 0 or more, on a listener of
   * its own at {@code host:port} instead (0: a free port). With {@code requireAdminToken} a scrape
   * must send the admin token as a bearer token; otherwise it is open, like the health probes.
   * {@code vertx} names the groups of Vert.x's own meters recorded beside Flopex's.
   */
  public record Metrics(boolean enabled, boolean requireAdminToken, String host, int port,
      Set<VertxMeters> vertx) {

    /** {@code port} when the metrics are served on the main port. */
    public static final int MAIN_PORT = -1;
    /**
     * The ingress server's and the connection pools' meters: what Flopex's own meters do not
     * already say. The others cost CPU on every request (about a fifth of what the gateway
     * spends on one, together) and repeat what Flopex's own meters record per attempt.
     */
    public static final Set<VertxMeters> DEFAULT_VERTX =
        Set.copyOf(EnumSet.of(VertxMeters.HTTP_SERVER, VertxMeters.POOLS));
    public static final Metrics DEFAULTS =
        new Metrics(true, false, "127.0.0.1", MAIN_PORT, DEFAULT_VERTX);
    public static final Metrics OFF = new Metrics(false, false, "127.0.0.1", MAIN_PORT, Set.of());

    public Metrics {
      vertx = Set.copyOf(vertx);
    }

    /** Whether {@code /metrics} has a listener of its own. */
    public boolean ownPort() {
      return enabled && port != MAIN_PORT;
    }
  }

  /** Groups of Vert.x's own meters, as {@code metrics.vertx} names them. */
  public enum VertxMeters {
    /** The ingress HTTP server: requests by route and status, connections, bytes. */
    HTTP_SERVER("http_server"),
    /** Each provider's HTTP client: requests, response times, connections, bytes. */
    HTTP_CLIENT("http_client"),
    /** Messages between the verticles. */
    EVENT_BUS("event_bus"),
    /** Plain TCP connections: PostgreSQL's, the event-bus bridge's. */
    NET("net"),
    /**
     * PostgreSQL's connection pool and queries, and the worker pools; each upstream's connection
     * pool too when {@link #HTTP_CLIENT} is on as well.
     */
    POOLS("pools");

    private final String configName;

    VertxMeters(String configName) {
      this.configName = configName;
    }

    public String configName() {
      return configName;
    }
  }

  /** How usage rows are batched into PostgreSQL. */
  public record Usage(int batchSize, long flushIntervalMs, int maxPending) {}

  /**
   * How long usage metadata is kept, in days; how long billing records (ledger, Stripe events
   * and payments) are kept, in years; and how often the purge runs.
   */
  public record Retention(int usageDays, int ledgerYears, long intervalMs) {}

  @Override
  public String toString() {
    return "FlopexConfig[port=" + server.port() + ", database=" + database + ", providers="
        + providers + "]";
  }
}
