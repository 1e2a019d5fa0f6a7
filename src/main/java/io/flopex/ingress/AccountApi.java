package io.flopex.ingress;

import io.flopex.bus.Failure;
import io.flopex.config.FlopexConfig;
import io.flopex.db.ApiKeys;
import io.flopex.db.KeyLimits;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The account API, for an account holder rather than the operator: a short-lived token in
 * exchange for a management key, then the account, its keys, its ledger and its usage. Every
 * route but the token exchange takes {@code Authorization: Bearer <token>}.
 */
final class AccountApi {

  private static final Logger LOG = LoggerFactory.getLogger(AccountApi.class);
  private static final String ACCOUNT = "flopex.account";
  private static final String[] PREFIXES = {"/v1/auth/", "/v1/account", "/v1/keys",
      "/v1/credits", "/v1/usage", "/v1/billing/"};

  private final Services services;
  private final AccountAuth auth;
  private final Checkout checkout;

  AccountApi(Services services, AccountAuth auth, io.vertx.core.Vertx vertx) {
    this.services = services;
    this.auth = auth;
    FlopexConfig.Stripe stripe = services.config().stripe();
    this.checkout = stripe.secretKey() != null && stripe.successUrl() != null
        && stripe.cancelUrl() != null ? new Checkout(vertx, stripe) : null;
  }

  /** Whether a path belongs to this API, which authenticates its requests itself. */
  static boolean owns(String path) {
    if (path == null) {
      return false;
    }
    for (String prefix : PREFIXES) {
      if (path.regionMatches(true, 0, prefix, 0, prefix.length())
          && (path.length() == prefix.length() || prefix.endsWith("/")
              || path.charAt(prefix.length()) == '/')) {
        return true;
      }
    }
    return false;
  }

  void mount(Router router, BodyTimeoutHandler bodyTimeout, BodyHandler body) {
    router.post("/v1/auth/token").handler(this::token);
    router.route("/v1/account").handler(this::authenticate);
    router.route("/v1/account/*").handler(this::authenticate);
    router.route("/v1/keys").handler(this::authenticate);
    router.route("/v1/keys/*").handler(this::authenticate);
    router.route("/v1/credits").handler(this::authenticate);
    router.route("/v1/usage").handler(this::authenticate);
    router.route("/v1/billing/*").handler(this::authenticate);
    router.get("/v1/account").handler(this::showAccount);
    router.get("/v1/account/export").handler(this::export);
    router.delete("/v1/account").handler(this::erase);
    router.patch("/v1/account").handler(bodyTimeout).handler(body).handler(this::updateAccount);
    router.get("/v1/keys").handler(this::listKeys);
    router.post("/v1/keys").handler(bodyTimeout).handler(body).handler(this::createKey);
    router.patch("/v1/keys/:id").handler(bodyTimeout).handler(body).handler(this::updateKey);
    router.delete("/v1/keys/:id").handler(this::revokeKey);
    router.get("/v1/credits").handler(this::credits);
    router.get("/v1/usage").handler(this::usage);
    router.post("/v1/billing/checkout").handler(bodyTimeout).handler(body)
        .handler(this::checkout);
  }

  /** {@code POST /v1/billing/checkout {"amount": micro-USD}}: a Stripe Checkout URL. */
  private void checkout(RoutingContext ctx) {
    if (checkout == null) {
      throw new ApiError(Failure.NOT_FOUND, "Top-ups through Stripe are not configured on this"
          + " gateway.", null);
    }
    JsonObject body = AdminApi.object(ctx);
    Object amount = body.getValue("amount");
    if (!(amount instanceof Integer || amount instanceof Long)) {
      throw new ApiError(Failure.INVALID_REQUEST, "'amount' must be a whole number of"
          + " micro-USD.", "amount");
    }
    AdminApi.reply(ctx, checkout.create(accountOf(ctx), ((Number) amount).longValue()), 201);
  }

  /** {@code POST /v1/auth/token}: a management key in, a short-lived token out. */
  private void token(RoutingContext ctx) {
    String key = ApiKeyAuth.bearer(ctx.request().getHeader("authorization"));
    if (!ApiKeys.wellFormedManagement(key)) {
      IngressVerticle.error(ctx, new ApiError(Failure.UNAUTHENTICATED, "Send an account's"
          + " management key as 'Authorization: Bearer mk-flx-...'.", null));
      return;
    }
    services.accounts().findManagementKey(ApiKeys.hash(key))
        .onSuccess(account -> {
          if (account == null) {
            IngressVerticle.error(ctx, new ApiError(Failure.UNAUTHENTICATED, "Unknown or"
                + " revoked management key.", null));
            return;
          }
          IngressVerticle.json(ctx, 200, new JsonObject().put("token", auth.issue(account))
              .put("token_type", "Bearer").put("expires_in", auth.ttlSeconds()));
        })
        .onFailure(err -> {
          LOG.warn("Management key lookup failed: {}", err.getMessage());
          IngressVerticle.error(ctx, new ApiError(Failure.NOT_READY, "The gateway cannot check"
              + " keys right now; retry shortly.", null));
        });
  }

  private void authenticate(RoutingContext ctx) {
    ctx.request().pause();
    String token = ApiKeyAuth.bearer(ctx.request().getHeader("authorization"));
    auth.verify(token)
        .compose(this::notErased)
        .onComplete(result -> {
          if (result.failed()) {
            ApiError error = new ApiError(Failure.UNAUTHENTICATED, "Missing, expired or invalid"
                + " token. Get one from POST /v1/auth/token with a management key.", null);
            if (ctx.request().isEnded()) {
              IngressVerticle.error(ctx, error);
            } else {
              IngressVerticle.errorAndClose(ctx, error);
            }
            return;
          }
          ctx.put(ACCOUNT, result.result());
          ctx.next();
        });
  }

  /** A token outlives nothing: an erased account's tokens stop working at once. */
  private Future<UUID> notErased(UUID account) {
    return services.pool().preparedQuery("SELECT erased_at IS NULL FROM accounts WHERE id = $1")
        .execute(io.vertx.sqlclient.Tuple.of(account))
        .compose(rows -> rows.size() == 1 && rows.iterator().next().getBoolean(0)
            ? Future.succeededFuture(account)
            : Future.failedFuture("account erased or unknown"));
  }

  private static UUID accountOf(RoutingContext ctx) {
    return ctx.get(ACCOUNT);
  }

  private Future<JsonObject> found(Future<JsonObject> result, String what) {
    return result.compose(value -> value != null ? Future.succeededFuture(value)
        : Future.failedFuture(new ApiError(Failure.NOT_FOUND, "No such " + what + ".", null)));
  }

  /**
   * {@code GET /v1/account/export}: everything held about the account, as one JSON document
   * streamed from the database.
   */
  private void export(RoutingContext ctx) {
    export(ctx, services, accountOf(ctx));
  }

  /** Streams the account's export as the answer; also used by the admin API. */
  static void export(RoutingContext ctx, Services services, UUID account) {
    io.vertx.core.http.HttpServerResponse response = ctx.response();
    new io.flopex.db.AccountData(services.pool()).export(account, response, found -> response
            .setChunked(true).setStatusCode(200)
            .putHeader("content-type", "application/json")
            .putHeader("content-disposition", "attachment; filename=\"flopex-account-" + account
                + ".json\""))
        .onSuccess(v -> response.end())
        .onFailure(err -> {
          if (!response.headWritten()) {
            IngressVerticle.error(ctx, err instanceof java.util.NoSuchElementException
                ? new ApiError(Failure.NOT_FOUND, "No such account.", null)
                : new ApiError(Failure.NOT_READY, "The export could not be read; retry"
                    + " shortly.", null));
          } else {
            LOG.error("Export of an account failed midway: {}", err.getMessage());
            // Cut the connection: a client must never take half a document for all of it.
            response.reset();
          }
        });
  }

  /**
   * {@code DELETE /v1/account}: erases the account. Keys are revoked, the email and usage
   * metadata go; the ledger stays for the law, tied only to the account's random id.
   */
  private void erase(RoutingContext ctx) {
    UUID account = accountOf(ctx);
    AdminApi.reply(ctx, new io.flopex.db.AccountData(services.pool()).erase(account)
        .compose(done -> {
          if (!done) {
            return Future.failedFuture(new ApiError(Failure.NOT_FOUND, "No such account.",
                null));
          }
          services.auth().forgetAccount(account);
          return Future.succeededFuture(new JsonObject().put("id", account.toString())
              .put("erased", true));
        }), 200);
  }

  private void showAccount(RoutingContext ctx) {
    AdminApi.reply(ctx, found(services.wallet().balance(accountOf(ctx)), "account")
        .map(a -> a.put("billing_enabled", services.billing() != null)), 200);
  }

  private void updateAccount(RoutingContext ctx) {
    JsonObject body = AdminApi.object(ctx);
    for (String field : body.fieldNames()) {
      if (!field.equals("email")) {
        throw new ApiError(Failure.INVALID_REQUEST, "Only 'email' can be changed here.",
            ChatExchange.printable(field));
      }
    }
    String email = AdminApi.email(body);
    UUID account = accountOf(ctx);
    AdminApi.reply(ctx, services.accounts().updateEmail(account, email)
        .compose(done -> found(services.wallet().balance(account), "account")), 200);
  }

  private void listKeys(RoutingContext ctx) {
    AdminApi.reply(ctx, services.accounts().listKeys(accountOf(ctx))
        .map(keys -> new JsonObject().put("object", "list").put("data", keys)), 200);
  }

  private void createKey(RoutingContext ctx) {
    JsonObject body = AdminApi.object(ctx);
    KeyLimits limits = KeyRequests.limits(body);
    String name = KeyRequests.name(body, "default");
    AdminApi.reply(ctx, services.accounts().createKey(accountOf(ctx), name, ApiKeys.generate(),
        limits), 201);
  }

  private void updateKey(RoutingContext ctx) {
    UUID key = AdminApi.uuid(ctx.pathParam("id"), "id");
    JsonObject body = AdminApi.object(ctx);
    Map<String, Object> changes = KeyRequests.changes(body);
    String name = body.containsKey("name") ? KeyRequests.name(body, null) : null;
    if (body.containsKey("name") && name == null) {
      throw new ApiError(Failure.INVALID_REQUEST, "'name' cannot be removed.", "name");
    }
    AdminApi.reply(ctx, found(services.accounts().updateKey(accountOf(ctx), key, name, changes),
        "key").onSuccess(k -> services.auth().forget(key)), 200);
  }

  private void revokeKey(RoutingContext ctx) {
    UUID key = AdminApi.uuid(ctx.pathParam("id"), "id");
    AdminApi.reply(ctx, services.accounts().revokeKey(accountOf(ctx), key).compose(done -> {
      if (!done) {
        return Future.failedFuture(new ApiError(Failure.NOT_FOUND, "No such key.", "id"));
      }
      services.auth().forget(key);
      return Future.succeededFuture(new JsonObject().put("id", key.toString())
          .put("revoked", true));
    }), 200);
  }

  private void credits(RoutingContext ctx) {
    int limit = AdminApi.intParam(ctx, "limit", 50, 1, 500);
    long before = AdminApi.longParam(ctx, "before", 0, 0, Long.MAX_VALUE);
    UUID account = accountOf(ctx);
    AdminApi.reply(ctx, found(services.wallet().balance(account), "account")
        .compose(balance -> services.wallet().ledger(account, limit, before)
            .map(entries -> new JsonObject()
                .put("balance_micros", balance.getLong("balance_micros"))
                .put("reserved_micros", balance.getLong("reserved_micros"))
                .put("object", "list").put("data", entries)
                .put("next_before", entries.isEmpty() || entries.size() < limit ? null
                    : entries.getJsonObject(entries.size() - 1).getLong("id")))), 200);
  }

  private void usage(RoutingContext ctx) {
    int days = AdminApi.intParam(ctx, "days", 30, 1, 366);
    AdminApi.reply(ctx, services.usage().totals(accountOf(ctx), days)
        .map(rows -> new JsonObject().put("object", "list").put("days", days)
            .put("data", rows)), 200);
  }
}
