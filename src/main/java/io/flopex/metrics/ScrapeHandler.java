package io.flopex.metrics;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Answers a scrape with the registry in Prometheus's text format, after checking the admin token
 * when one is required. Used by the ingress router and by a metrics listener of its own.
 */
public final class ScrapeHandler implements Handler<HttpServerRequest> {

  private static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final PrometheusMeterRegistry registry;
  /** The admin token a scrape must present, or null when scrapes are open. */
  private final byte[] token;

  public ScrapeHandler(PrometheusMeterRegistry registry, String requiredToken) {
    this.registry = registry;
    this.token = requiredToken == null ? null : requiredToken.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public void handle(HttpServerRequest request) {
    if (token != null && !authorized(request.getHeader("authorization"))) {
      request.response().setStatusCode(401)
          .putHeader("content-type", "application/json")
          .putHeader("www-authenticate", "Bearer")
          .end(new JsonObject().put("error", new JsonObject()
              .put("message", "Scraping /metrics needs the admin token as a bearer token.")
              .put("type", "authentication_error")
              .put("code", "invalid_api_key")).toBuffer());
      return;
    }
    request.response().putHeader("content-type", CONTENT_TYPE).end(registry.scrape());
  }

  private boolean authorized(String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return false;
    }
    byte[] presented = authorization.substring(7).trim().getBytes(StandardCharsets.UTF_8);
    return MessageDigest.isEqual(presented, token);
  }
}
