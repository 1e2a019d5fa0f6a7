package io.flopex.ingress;

import io.flopex.bus.Addresses;
import io.flopex.db.KeyLimits;
import io.flopex.db.Wallet;
import io.flopex.bus.Failure;
import io.flopex.db.ApiKeys;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's API under {@code /admin/v1}: accounts, their keys, and their usage rows. The
 * ingress has already checked the admin token when a handler here runs.
 */
final class AdminApi {

  private static final Logger LOG = LoggerFactory.getLogger(AdminApi.class);
  private static final int MAX_USAGE_ROWS = 1000;
  /** A million dollars: far above any honest hand adjustment, far below overflow. */
  private static final long MAX_ADJUSTMENT_MICROS = 1_000_000_000_000L;
  private static final long QUERY_TIMEOUT_MS = 10_000;

  private final Services services;

  AdminApi(Services services) {
    this.services = services;
  }

  void mount(Router router, BodyTimeoutHandler bodyTimeout, BodyHandler body) {
    router.post("/admin/v1/accounts").handler(bodyTimeout).handler(body)
        .handler(this::createAccount);
    router.post("/admin/v1/accounts/:id/keys").handler(bodyTimeout).handler(body)
        .handler(this::createKey);
    router.get("/admin/v1/accounts/:id/keys").handler(this::listKeys);
    router.delete("/admin/v1/keys/:id").handler(this::revokeKey);
    router.get("/admin/v1/usage").handler(this::usage);
    router.get("/admin/v1/endpoints").handler(this::endpoints);
    router.get("/admin/v1/accounts/:id").handler(this::account);
    router.get("/admin/v1/accounts/:id/export").handler(ctx -> AccountApi.export(ctx, services,
        uuid(ctx.pathParam("id"), "id")));
    router.post("/admin/v1/accounts/:id/management-keys").handler(this::createManagementKey);
    router.post("/admin/v1/accounts/:id/credits").handler(bodyTimeout).handler(body)
        .handler(this::credit);
  }

  /** A management key for the account's holder, shown this once. */
  private void createManagementKey(RoutingContext ctx) {
    UUID account = uuid(ctx.pathParam("id"), "id");
    reply(ctx, services.accounts().accountExists(account).compose(exists -> exists
        ? services.accounts().createManagementKey(account,
            ApiKeys.generate(ApiKeys.MANAGEMENT_PREFIX))
        : Future.failedFuture(new ApiError(Failure.NOT_FOUND, "No account with id '" + account
            + "'.", "id"))), 201);
  }

  /** The account with its balance and what requests in flight have set aside. */
  private void account(RoutingContext ctx) {
    UUID account = uuid(ctx.pathParam("id"), "id");
    reply(ctx, services.wallet().balance(account).compose(found -> found != null
        ? Future.succeededFuture(found)
        : Future.failedFuture(new ApiError(Failure.NOT_FOUND, "No account with id '" + account
            + "'.", "id"))), 200);
  }

  /** Moves a wallet by hand, with a reason kept in the ledger: a credit, or a negative fix. */
  private void credit(RoutingContext ctx) {
    UUID account = uuid(ctx.pathParam("id"), "id");
    JsonObject body = object(ctx);
    Object amount = body.getValue("amount_micros");
    if (!(amount instanceof Integer || amount instanceof Long) || ((Number) amount).longValue() == 0
        || Math.abs(((Number) amount).longValue()) > MAX_ADJUSTMENT_MICROS) {
      throw new ApiError(Failure.INVALID_REQUEST, "'amount_micros' must be a non-zero whole"
          + " number of micro-USD, at most " + MAX_ADJUSTMENT_MICROS + " either way.",
          "amount_micros");
    }
    Object reason = body.getValue("reason");
    if (!(reason instanceof String r) || r.isBlank() || r.length() > 500
        || r.chars().anyMatch(Character::isISOControl)) {
      throw new ApiError(Failure.INVALID_REQUEST, "'reason' must be 1 to 500 printable"
          + " characters; it is kept in the ledger.", "reason");
    }
    long micros = ((Number) amount).longValue();
    reply(ctx, services.wallet().credit(account, Wallet.Kind.ADJUSTMENT, micros, null, r)
        .compose(balance -> balance != null
            ? Future.succeededFuture(new JsonObject().put("id", account.toString())
                .put("amount_micros", micros).put("balance_micros", balance))
            : Future.failedFuture(new ApiError(Failure.NOT_FOUND, "No account with id '"
                + account + "'.", "id"))), 201);
  }

  /** What this node's routing knows about every endpoint: rests, circuits, budgets, averages. */
  private void endpoints(RoutingContext ctx) {
    reply(ctx, ctx.vertx().eventBus().<JsonObject>request(Addresses.ROUTING_STATUS, null,
        new io.vertx.core.eventbus.DeliveryOptions().setLocalOnly(true)
            .setSendTimeout(QUERY_TIMEOUT_MS)).map(message -> message.body()), 200);
  }

  private void createAccount(RoutingContext ctx) {
    JsonObject body = object(ctx);
    reply(ctx, services.accounts().createAccount(email(body)), 201);
  }

  /** The {@code email} field, checked: one address, no spaces or control characters. */
  static String email(JsonObject body) {
    Object email = body.getValue("email");
    if (!(email instanceof String e) || e.length() > 254
        || !e.matches("[^@\\s\\p{Cntrl}]+@[^@\\s\\p{Cntrl}]+")) {
      throw new ApiError(Failure.INVALID_REQUEST, "'email' must be an email address.", "email");
    }
    return e;
  }

  /** A whole-number query parameter within bounds, or 400 naming it. */
  static int intParam(RoutingContext ctx, String name, int fallback, int min, int max) {
    return (int) longParam(ctx, name, fallback, min, max);
  }

  static long longParam(RoutingContext ctx, String name, long fallback, long min, long max) {
    String value = ctx.request().getParam(name);
    if (value == null) {
      return fallback;
    }
    try {
      long parsed = Long.parseLong(value);
      if (parsed >= min && parsed <= max) {
        return parsed;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw new ApiError(Failure.INVALID_REQUEST, "'" + name + "' must be a whole number from "
        + min + " to " + max + ".", name);
  }

  private void createKey(RoutingContext ctx) {
    UUID account = uuid(ctx.pathParam("id"), "id");
    JsonObject body = object(ctx);
    String n = KeyRequests.name(body, "default");
    KeyLimits limits = KeyRequests.limits(body);
    Future<JsonObject> created = services.accounts().accountExists(account)
        .compose(exists -> {
          if (!exists) {
            return Future.failedFuture(new ApiError(Failure.NOT_FOUND,
                "No account with id '" + account + "'.", "id"));
          }
          return services.accounts().createKey(account, n, ApiKeys.generate(), limits);
        });
    reply(ctx, created, 201);
  }

  private void listKeys(RoutingContext ctx) {
    UUID account = uuid(ctx.pathParam("id"), "id");
    reply(ctx, services.accounts().accountExists(account).compose(exists -> exists
        ? services.accounts().listKeys(account)
            .map(keys -> new JsonObject().put("object", "list").put("data", keys))
        : Future.failedFuture(new ApiError(Failure.NOT_FOUND, "No account with id '" + account
            + "'.", "id"))), 200);
  }

  private void revokeKey(RoutingContext ctx) {
    UUID key = uuid(ctx.pathParam("id"), "id");
    reply(ctx, services.accounts().revokeKey(key).compose(found -> {
      if (!found) {
        return Future.failedFuture(new ApiError(Failure.NOT_FOUND, "No key with id '" + key
            + "'.", "id"));
      }
      services.auth().forget(key);
      return Future.succeededFuture(new JsonObject().put("id", key.toString())
          .put("revoked", true));
    }), 200);
  }

  private void usage(RoutingContext ctx) {
    String accountParam = ctx.request().getParam("account");
    if (accountParam == null) {
      throw new ApiError(Failure.INVALID_REQUEST, "'account' is required.", "account");
    }
    UUID account = uuid(accountParam, "account");
    int limit = 50;
    String limitParam = ctx.request().getParam("limit");
    if (limitParam != null) {
      try {
        limit = Integer.parseInt(limitParam);
      } catch (NumberFormatException e) {
        limit = -1;
      }
      if (limit < 1 || limit > MAX_USAGE_ROWS) {
        throw new ApiError(Failure.INVALID_REQUEST, "'limit' must be an integer from 1 to "
            + MAX_USAGE_ROWS + ".", "limit");
      }
    }
    reply(ctx, services.usage().newest(account, limit)
        .map(rows -> new JsonObject().put("object", "list").put("data", rows)), 200);
  }

  static JsonObject object(RoutingContext ctx) {
    Buffer raw = ctx.body().buffer();
    try {
      Object value = raw == null || raw.length() == 0 ? null : raw.toJsonValue();
      if (value instanceof JsonObject o) {
        return o;
      }
    } catch (DecodeException e) {
      throw new ApiError(Failure.INVALID_JSON, "The request body is not valid JSON.", null);
    }
    throw new ApiError(Failure.INVALID_JSON, "The request body must be a JSON object.", null);
  }

  static UUID uuid(String value, String param) {
    try {
      return UUID.fromString(value);
    } catch (IllegalArgumentException e) {
      throw new ApiError(Failure.NOT_FOUND, "'" + param + "' is not a known id.", param);
    }
  }

  static void reply(RoutingContext ctx, Future<JsonObject> result, int status) {
    result
        .timeout(QUERY_TIMEOUT_MS, TimeUnit.MILLISECONDS)
        .onSuccess(body -> IngressVerticle.json(ctx, status, body))
        .onFailure(err -> {
          if (err instanceof ApiError e) {
            IngressVerticle.error(ctx, e);
          } else {
            LOG.error("Admin request failed: {}", err.getMessage());
            IngressVerticle.error(ctx, new ApiError(Failure.NOT_READY, "The database did not"
                + " answer; retry shortly.", null));
          }
        });
  }
}
