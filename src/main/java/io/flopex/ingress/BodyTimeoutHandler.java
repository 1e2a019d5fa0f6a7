package io.flopex.ingress;

import io.flopex.bus.Failure;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.PlatformHandler;

/**
 * Answers 408 to a client that takes too long to send its body, so a slow upload cannot hold a
 * connection and a buffer forever. The handler that consumes the body calls {@link
 * #bodyReceived} to stop the clock.
 */
final class BodyTimeoutHandler implements PlatformHandler {

  private static final String TIMER = "flopex.bodyTimer";

  private final Vertx vertx;
  private final long timeoutMs;

  BodyTimeoutHandler(Vertx vertx, long timeoutMs) {
    this.vertx = vertx;
    this.timeoutMs = timeoutMs;
  }

  @Override
  public void handle(RoutingContext ctx) {
    String type = ctx.request().getHeader("content-type");
    if (type != null && type.regionMatches(true, 0, "multipart/", 0, 10)) {
      IngressVerticle.errorAndClose(ctx, new ApiError(Failure.UNSUPPORTED_MEDIA_TYPE,
          "Send the request as JSON ('Content-Type: application/json').", null));
      return;
    }
    // The body is JSON whatever the client labelled it (curl -d says form-urlencoded); reading it
    // as a form would only cost memory and fail on long bodies.
    ctx.request().headers().set("content-type", "application/json");
    long timer = vertx.setTimer(timeoutMs, id -> {
      if (!ctx.response().headWritten()) {
        ApiError error = new ApiError(Failure.REQUEST_TIMEOUT, "The request body was not"
            + " received within " + timeoutMs + " ms.", null);
        IngressVerticle.recordRejected(ctx, error);
        IngressVerticle.errorAndClose(ctx, error);
      }
    });
    ctx.put(TIMER, timer);
    ctx.addEndHandler(v -> vertx.cancelTimer(timer));
    ctx.next();
  }

  static void bodyReceived(RoutingContext ctx) {
    Long timer = ctx.get(TIMER);
    if (timer != null) {
      ctx.vertx().cancelTimer(timer);
    }
  }
}
