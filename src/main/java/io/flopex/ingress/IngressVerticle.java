package io.flopex.ingress;

import io.flopex.logging.Redacted;
import io.flopex.bus.Addresses;
import io.flopex.bus.Failure;
import io.flopex.bus.Usage;
import io.flopex.bus.UsageRecord;
import io.flopex.config.FlopexConfig;
import io.flopex.config.ModelConfig;
import io.flopex.db.AccountStore.KeyOwner;
import io.flopex.db.TimeOrderedIds;
import io.flopex.metrics.ScrapeHandler;
import io.flopex.translate.ClientFormat;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP front door: the OpenAI-compatible API, the admin API, the health probes and, unless
 * it has a port of its own, {@code /metrics}. One instance runs per event loop, all sharing the
 * port.
 *
 * <p>Every path except the two health probes and {@code /metrics} (which checks the admin token
 * itself when {@code metrics.requireAdminToken} is set) needs a key, checked before the path is
 * even matched, so that no spelling of a route (double slashes, odd case, percent-encoding, HEAD,
 * OPTIONS) reaches anything unauthenticated.
 */
public final class IngressVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(IngressVerticle.class);
  private static final Pattern CLIENT_REQUEST_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
  static final String OWNER = "flopex.owner";
  private static final String REQUEST_ID = "flopex.requestId";
  private static final String STARTED = "flopex.started";
  private static final String REJECTED = "flopex.rejected";
  private static final String FORMAT = "flopex.format";
  private static final String LOGGED = "flopex.logged";

  private final Services services;
  private final FlopexConfig config;
  private final byte[] adminToken;
  private HttpServer server;

  public IngressVerticle(Services services, String adminToken) {
    this.services = services;
    this.config = services.config();
    this.adminToken = adminToken.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    router.route().handler(this::requestId);
    router.get("/health/live").handler(ctx -> json(ctx, 200, new JsonObject().put("status", "up")));
    router.get("/health/ready").handler(this::ready);
    FlopexConfig.Metrics metrics = config.metrics();
    if (metrics.enabled() && !metrics.ownPort()) {
      // Checks the admin token itself when asked to; otherwise open, like the probes.
      ScrapeHandler scrape = new ScrapeHandler(services.metrics().prometheus(),
          metrics.requireAdminToken() ? new String(adminToken, StandardCharsets.UTF_8) : null);
      router.get("/metrics").handler(ctx -> scrape.handle(ctx.request()));
    }
    BodyHandler body = BodyHandler.create(false).setBodyLimit(config.server().maxBodyBytes());
    BodyTimeoutHandler bodyTimeout = new BodyTimeoutHandler(vertx, config.server().bodyTimeoutMs());
    if (config.stripe().webhookSecret() != null) {
      // Authenticated by its signature, not by a key.
      router.post("/webhooks/stripe").handler(bodyTimeout).handler(body)
          .handler(new StripeWebhook(config.stripe().webhookSecret(),
              services.stripe())::handle);
    }
    router.route().handler(this::authenticate);

    for (String path : new String[] {"/v1/chat/completions", "/chat/completions"}) {
      router.post(path).handler(bodyTimeout).handler(body).handler(this::chat);
    }
    router.post("/v1/messages").handler(bodyTimeout).handler(body).handler(this::messages);
    for (String path : new String[] {"/v1/responses", "/responses"}) {
      router.post(path).handler(bodyTimeout).handler(body).handler(this::responses);
    }
    router.routeWithRegex("/v1/responses/.+").handler(IngressVerticle::noStoredResponses);
    router.get("/v1/generation").handler(this::generation);
    for (String path : new String[] {"/v1/models", "/models"}) {
      router.get(path).handler(this::models);
    }
    new AdminApi(services).mount(router, bodyTimeout, body);
    new AccountApi(services, services.accountAuth(), vertx).mount(router, bodyTimeout, body);

    router.errorHandler(404, ctx -> error(ctx, new ApiError(Failure.NOT_FOUND,
        "No such route: " + ctx.request().method() + " " + ChatExchange.printable(
            ctx.request().path() == null ? "" : ctx.request().path()) + ".", null)));
    router.errorHandler(405, ctx -> error(ctx, new ApiError(Failure.METHOD_NOT_ALLOWED,
        "Method " + ctx.request().method() + " is not allowed here.", null)));
    router.errorHandler(413, ctx -> {
      ApiError error = new ApiError(Failure.BODY_TOO_LARGE, "The request body is larger than"
          + " the limit of " + config.server().maxBodyBytes() + " bytes.", null);
      recordRejected(ctx, error);
      errorAndClose(ctx, error);
    });
    router.errorHandler(400, ctx -> error(ctx, new ApiError(Failure.INVALID_REQUEST,
        "The request could not be read.", null)));
    router.errorHandler(500, ctx -> {
      if (ctx.failure() instanceof ApiError e) {
        error(ctx, e);
        return;
      }
      LOG.error("Unexpected failure handling request {}", (Object) ctx.get(REQUEST_ID),
          ctx.failure() == null ? null : Redacted.of(ctx.failure()));
      error(ctx, new ApiError(Failure.INTERNAL, "The gateway failed to handle the request.",
          null));
    });

    HttpServerOptions options = new HttpServerOptions()
        .setHost(config.server().host())
        .setPort(config.server().port());
    return vertx.createHttpServer(options)
        // A client's malformed request fails its connection with a parser message that may
        // quote what it sent; without a handler Vert.x would log it whole.
        .connectionHandler(connection -> connection.exceptionHandler(err -> LOG.debug(
            "A client connection failed", Redacted.of(err))))
        .requestHandler(router)
        .listen()
        .onSuccess(s -> server = s);
  }

  /**
   * Stops accepting connections and gives requests in flight, streams included, up to the
   * configured grace period to finish before their connections are closed.
   */
  @Override
  public Future<?> stop() {
    return server == null ? Future.succeededFuture()
        : server.shutdown(config.server().shutdownGraceMs(), TimeUnit.MILLISECONDS);
  }

  /** The port the server listens on; useful when the configuration asked for port 0. */
  public int actualPort() {
    return server.actualPort();
  }

  /**
   * Keeps the one usage row every authenticated chat request leaves, for a request refused
   * before it could be routed (bad JSON, a body too large or too slow).
   */
  static void recordRejected(RoutingContext ctx, ApiError error) {
    KeyOwner owner = ctx.get(OWNER);
    if (owner == null || ctx.get(REJECTED) != null) {
      return;
    }
    ctx.put(REJECTED, true);
    Long started = ctx.get(STARTED);
    long latencyMs = started == null ? 0 : (System.nanoTime() - started) / 1_000_000;
    UsageRecord record = new UsageRecord(TimeOrderedIds.next(), ctx.get(REQUEST_ID), Instant.now(),
        owner.accountId(), owner.keyId(), null, null, null, false, error.failure().key(),
        error.status(), List.of(), Usage.NONE, 0, latencyMs, 0);
    ctx.vertx().eventBus().send(Addresses.USAGE_RECORD, record,
        new DeliveryOptions().setLocalOnly(true));
  }

  private void requestId(RoutingContext ctx) {
    ctx.put(STARTED, System.nanoTime());
    String id = ctx.request().getHeader("x-request-id");
    if (id == null || !CLIENT_REQUEST_ID.matcher(id).matches()) {
      // Time-ordered: usage rows are indexed by account and request id.
      id = TimeOrderedIds.next().toString();
    }
    ctx.put(REQUEST_ID, id);
    ctx.response().putHeader("x-request-id", id);
    ctx.addEndHandler(ended -> {
      if (ctx.get(LOGGED) == null) {
        KeyOwner owner = ctx.get(OWNER);
        String path = ctx.request().path();
        RequestLog.http(ctx.get(REQUEST_ID), ctx.request().method().name(),
            path == null ? "-" : ChatExchange.printable(path), ctx.response().getStatusCode(),
            (System.nanoTime() - (long) ctx.get(STARTED)) / 1_000_000,
            owner == null ? null : owner.keyId(), ended.failed());
      }
    });
    ctx.next();
  }

  /**
   * {@code GET /health/ready}: whether this node should receive traffic. It is ready when every
   * verticle is deployed, it is not shutting down, its database answers and, in a cluster, it is
   * an active member. Provider health is reported but does not make the node unready: every node
   * sees the same providers, and taking them all out of a load balancer would turn a provider's
   * outage into the gateway's.
   */
  private void ready(RoutingContext ctx) {
    Readiness readiness = services.readiness();
    if (!readiness.deployed() || readiness.stopping()) {
      json(ctx, 503, new JsonObject().put("status", readiness.stopping() ? "stopping" : "starting"));
      return;
    }
    Future<Boolean> database = services.pool().query("SELECT 1").execute()
        .timeout(2, TimeUnit.SECONDS)
        .map(true)
        .otherwise(false);
    Future<JsonObject> providers = vertx.eventBus().<JsonObject>request(Addresses.ROUTING_STATUS,
            null, new DeliveryOptions().setLocalOnly(true).setSendTimeout(2_000))
        .map(message -> providerHealth(message.body()))
        .otherwise(err -> new JsonObject().put("status", "unknown"));
    JsonObject cluster = cluster();
    Future.join(database, providers).onComplete(v -> {
      boolean databaseUp = database.result();
      boolean member = !cluster.getBoolean("enabled") || cluster.getBoolean("active");
      boolean ready = databaseUp && member && !readiness.stopping();
      json(ctx, ready ? 200 : 503, new JsonObject()
          .put("status", ready ? "ready" : readiness.stopping() ? "stopping" : "not_ready")
          .put("database", databaseUp ? "up" : "down")
          .put("cluster", cluster)
          .put("providers", providers.result()));
    });
  }

  /** This node's membership: whether it is clustered, active, and how many nodes it sees. */
  private JsonObject cluster() {
    JsonObject cluster = new JsonObject().put("enabled", vertx.isClustered());
    if (vertx.isClustered()
        && vertx instanceof io.vertx.core.internal.VertxInternal internal
        && internal.clusterManager() != null) {
      io.vertx.core.spi.cluster.ClusterManager manager = internal.clusterManager();
      boolean active = manager.isActive();
      cluster.put("active", active).put("nodes", active ? manager.getNodes().size() : 0);
    } else if (vertx.isClustered()) {
      cluster.put("active", false);
    }
    return cluster;
  }

  /** How many endpoints can take traffic now, and how many rest or have an open circuit. */
  private static JsonObject providerHealth(JsonObject status) {
    int endpoints = 0;
    int resting = 0;
    int open = 0;
    int unavailable = 0;
    for (Object o : status.getJsonArray("endpoints", new JsonArray())) {
      if (o instanceof JsonObject endpoint) {
        boolean rests = endpoint.containsKey("restingUntil");
        boolean cut = "open".equals(endpoint.getString("circuit"));
        endpoints++;
        resting += rests ? 1 : 0;
        open += cut ? 1 : 0;
        unavailable += rests || cut ? 1 : 0;
      }
    }
    return new JsonObject().put("endpoints", endpoints)
        .put("available", endpoints - unavailable)
        .put("resting", resting)
        .put("circuits_open", open);
  }

  private void authenticate(RoutingContext ctx) {
    String path = ctx.normalizedPath();
    if (AccountApi.owns(path)) {
      // Tokens and management keys, checked by the account API's own handlers.
      ctx.next();
      return;
    }
    // The key lookup is asynchronous: hold the body back until a body handler asks for it.
    ctx.request().pause();
    if (path != null && path.regionMatches(true, 0, "/v1/messages", 0, 12)) {
      ctx.put(FORMAT, ClientFormat.ANTHROPIC_MESSAGES);
    }
    String authorization = ctx.request().getHeader("authorization");
    if (authorization == null && ctx.request().getHeader("x-api-key") != null) {
      // Anthropic's SDKs send the key this way.
      authorization = "Bearer " + ctx.request().getHeader("x-api-key");
    }
    if (path != null && path.regionMatches(true, 0, "/admin", 0, 6)) {
      String token = ApiKeyAuth.bearer(authorization);
      if (token != null
          && MessageDigest.isEqual(token.getBytes(StandardCharsets.UTF_8), adminToken)) {
        ctx.next();
      } else {
        unauthenticated(ctx);
      }
      return;
    }
    services.auth().authenticate(authorization)
        .onSuccess(owner -> {
          if (owner == null) {
            unauthenticated(ctx);
          } else {
            ctx.put(OWNER, owner);
            ctx.next();
          }
        })
        .onFailure(err -> {
          LOG.warn("Key lookup failed for request {}: {}", (Object) ctx.get(REQUEST_ID),
              err.getMessage());
          error(ctx, new ApiError(Failure.NOT_READY, "The gateway cannot check keys right now;"
              + " retry shortly.", null));
        });
  }

  private static void unauthenticated(RoutingContext ctx) {
    ApiError error = new ApiError(Failure.UNAUTHENTICATED,
        ctx.get(FORMAT) == ClientFormat.ANTHROPIC_MESSAGES
            ? "Missing or invalid API key. Send it as 'x-api-key: sk-flx-...' or"
                + " 'Authorization: Bearer sk-flx-...'."
            : "Missing or invalid API key. Send it as 'Authorization: Bearer sk-flx-...'.", null);
    if (ctx.request().isEnded()) {
      error(ctx, error);
    } else {
      // Reading an unauthenticated body only to discard it would invite abuse: drop the connection.
      errorAndClose(ctx, error);
    }
  }

  private void chat(RoutingContext ctx) {
    exchange(ctx, ChatRequestValidator::validate);
  }

  private void messages(RoutingContext ctx) {
    exchange(ctx, MessagesRequestValidator::validate);
  }

  private void responses(RoutingContext ctx) {
    exchange(ctx, ResponsesRequestValidator::validate);
  }

  /** Retrieving, deleting or cancelling a response needs it stored, and Flopex stores none. */
  private static void noStoredResponses(RoutingContext ctx) {
    error(ctx, new ApiError(Failure.NOT_FOUND, "Flopex stores no responses, so none can be"
        + " retrieved, listed, cancelled or deleted. Keep the output items you need and send"
        + " them back as input.", null));
  }

  private void exchange(RoutingContext ctx,
      java.util.function.Function<io.vertx.core.buffer.Buffer, ChatRequestValidator.Validated>
          validator) {
    BodyTimeoutHandler.bodyReceived(ctx);
    if (ctx.response().headWritten()) {
      return;
    }
    KeyOwner owner = ctx.get(OWNER);
    if (services.usageBacklog().full()) {
      // Serving it could not be metered: refused before any provider is called, and without
      // a usage row of its own, which would only lengthen the backlog.
      services.refusals().metering();
      ctx.response().putHeader("x-flopex-attempts", "0").putHeader("retry-after", "1");
      error(ctx, new ApiError(Failure.METERING_UNAVAILABLE, "The gateway cannot record usage as"
          + " fast as requests arrive right now; no provider was called. Retry shortly.", null));
      return;
    }
    ChatRequestValidator.Validated request;
    try {
      request = validator.apply(ctx.body().buffer());
    } catch (ApiError e) {
      ctx.response().putHeader("x-flopex-attempts", "0");
      recordRejected(ctx, e);
      error(ctx, e);
      return;
    }
    if (!request.warnings().isEmpty()) {
      ctx.response().putHeader("x-flopex-warnings", String.join("; ", request.warnings()));
    }
    // The exchange logs the request's line with its usage; the end handler stays quiet.
    ctx.put(LOGGED, true);
    new ChatExchange(vertx, ctx.response(), owner, request, ctx.get(REQUEST_ID),
        ChatExchange.printable(ctx.normalizedPath()), services.billing(), services.limits(),
        services.inFlight(), services.refusals()).start();
  }

  /**
   * {@code GET /v1/generation?id=<x-request-id>}: the stored metadata of one of the account's
   * requests (tokens, cost, provider, attempts, latency). Rows are written within a second of
   * the request's end.
   */
  private void generation(RoutingContext ctx) {
    KeyOwner owner = ctx.get(OWNER);
    String id = ctx.request().getParam("id");
    if (id == null || id.isBlank() || id.length() > 200) {
      error(ctx, new ApiError(Failure.INVALID_REQUEST, "'id' must be the x-request-id of a"
          + " request.", "id"));
      return;
    }
    services.usage().byRequest(owner.accountId(), id)
        .timeout(10, TimeUnit.SECONDS)
        .onSuccess(row -> {
          if (row == null) {
            error(ctx, new ApiError(Failure.NOT_FOUND, "No request '" + ChatExchange.printable(id)
                + "' of this account is recorded (rows are written within a second of a"
                + " request's end).", "id"));
            return;
          }
          row.remove("account_id");
          row.put("cost", new java.math.BigDecimal(row.getLong("cost_micros")).movePointLeft(6));
          json(ctx, 200, new JsonObject().put("data", row));
        })
        .onFailure(err -> error(ctx, new ApiError(Failure.NOT_READY, "The gateway cannot read"
            + " usage right now; retry shortly.", null)));
  }

  private void models(RoutingContext ctx) {
    JsonArray data = new JsonArray();
    for (ModelConfig model : config.models()) {
      var pricing = model.endpoints().get(0).pricing();
      data.add(new JsonObject()
          .put("id", model.id())
          .put("object", "model")
          .put("created", 0)
          .put("owned_by", model.endpoints().get(0).provider())
          .put("context_length", model.contextLength())
          .put("pricing", new JsonObject()
              .put("prompt", perToken(pricing.promptPerMillion()))
              .put("completion", perToken(pricing.completionPerMillion()))));
    }
    json(ctx, 200, new JsonObject().put("object", "list").put("data", data));
  }

  /** USD per token as a decimal string, as OpenRouter publishes prices. */
  private static String perToken(long microsPerMillion) {
    return BigDecimal.valueOf(microsPerMillion, 12).stripTrailingZeros().toPlainString();
  }

  static void json(RoutingContext ctx, int status, JsonObject body) {
    if (!ctx.response().headWritten()) {
      ctx.response().setStatusCode(status)
          .putHeader("content-type", "application/json")
          .end(body.toBuffer());
    }
  }

  static void error(RoutingContext ctx, ApiError error) {
    json(ctx, error.status(), error.body(format(ctx)));
  }

  /** The dialect errors on this request are written in: Anthropic's on /v1/messages. */
  static ClientFormat format(RoutingContext ctx) {
    ClientFormat format = ctx.get(FORMAT);
    return format == null ? ClientFormat.OPENAI_CHAT : format;
  }

  /**
   * Answers, then closes the connection: for a request whose body will not be read (too large,
   * too slow, or unauthenticated), since keeping the connection would mean reading and discarding
   * the rest of the body, or holding the socket open forever.
   */
  static void errorAndClose(RoutingContext ctx, ApiError error) {
    if (ctx.response().headWritten()) {
      if (ctx.request().version() == HttpVersion.HTTP_2) {
        ctx.response().reset();
      } else {
        ctx.request().connection().close();
      }
      return;
    }
    boolean http2 = ctx.request().version() == HttpVersion.HTTP_2;
    if (!http2) {
      ctx.response().putHeader("connection", "close");
    }
    ctx.response().setStatusCode(error.status())
        .putHeader("content-type", "application/json")
        .end(error.body(format(ctx)).toBuffer())
        .onComplete(v -> {
          if (!http2) {
            ctx.request().connection().close();
          } else if (!ctx.request().isEnded()) {
            // Other requests share an HTTP/2 connection: abandon this stream only.
            ctx.response().reset();
          }
        });
  }
}
