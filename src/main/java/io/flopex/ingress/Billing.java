package io.flopex.ingress;

import io.flopex.bus.Route;
import io.flopex.bus.Usage;
import io.flopex.config.FlopexConfig;
import io.flopex.config.Pricing;
import io.flopex.db.Wallet;
import io.flopex.usage.CostCalculator;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The wallet as the request path uses it: what a request may cost at most, and settling what it
 * did cost. Present only when {@code billing.enabled}.
 */
public final class Billing {

  private static final Logger LOG = LoggerFactory.getLogger(Billing.class);
  /** Settling is retried this many times, over about a minute, doubling the wait each time. */
  private static final int SETTLE_TRIES = 10;

  private final Vertx vertx;
  private final Wallet wallet;
  private final FlopexConfig.Billing config;

  public Billing(Vertx vertx, Wallet wallet, FlopexConfig.Billing config) {
    this.vertx = vertx;
    this.wallet = wallet;
    this.config = config;
  }

  public Wallet wallet() {
    return wallet;
  }

  /** The output limit the request set, or the configured default when it set none. */
  long maxOutputTokens(JsonObject request) {
    long set = requestedOutputTokens(request);
    return set > 0 ? set : config.defaultMaxOutputTokens();
  }

  /** The output limit the request itself set, or 0. */
  static long requestedOutputTokens(JsonObject request) {
    for (String field : new String[] {"max_completion_tokens", "max_tokens",
        "max_output_tokens"}) {
      if (request.getValue(field) instanceof Number n && n.longValue() > 0) {
        return n.longValue();
      }
    }
    return 0;
  }

  /**
   * The prompt's tokens, bounded from above by its length in UTF-8 bytes: byte-level tokenizers
   * never make more tokens than bytes, whatever the script.
   */
  static long promptTokens(JsonObject request) {
    return promptBytes(request);
  }

  /**
   * The most the request can cost on any of these endpoints: its prompt, at one token per UTF-8
   * byte, at the highest prompt or cache-write price, plus its output limit at the highest
   * completion or reasoning price.
   */
  long worstCaseMicros(JsonObject request, List<Route> routes) {
    return worstCaseMicros(request, routes, maxOutputTokens(request));
  }

  /** Like {@link #worstCaseMicros(JsonObject, List)}, for this many output tokens. */
  static long worstCaseMicros(JsonObject request, List<Route> routes, long outputTokens) {
    long promptPrice = 0;
    long outputPrice = 0;
    for (Route route : routes) {
      Pricing p = route.pricing();
      promptPrice = Math.max(promptPrice, Math.max(p.promptPerMillion(),
          p.cacheWritePerMillion()));
      outputPrice = Math.max(outputPrice, Math.max(p.completionPerMillion(),
          p.reasoningPerMillion()));
    }
    return CostCalculator.costMicros(
        new Usage(promptTokens(request), outputTokens, 0, 0, true),
        new Pricing(promptPrice, outputPrice, promptPrice, promptPrice, outputPrice));
  }

  private static long promptBytes(JsonObject request) {
    long bytes = 0;
    for (String field : new String[] {"messages", "system", "tools", "input", "instructions"}) {
      Object value = request.getValue(field);
      if (value instanceof String s) {
        bytes += s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
      } else if (value instanceof JsonArray || value instanceof JsonObject) {
        bytes += value.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
      }
    }
    return bytes;
  }

  /**
   * Charges the real cost against the reservation, retrying a few times on database errors. The
   * future completes when the charge is written or every try has failed (it never fails).
   */
  Future<Void> settle(UUID reservation, UUID account, long costMicros, String requestId) {
    Promise<Void> done = Promise.promise();
    settle(reservation, account, costMicros, requestId, 1, done);
    return done.future();
  }

  private void settle(UUID reservation, UUID account, long costMicros, String requestId,
      int attempt, Promise<Void> done) {
    wallet.settle(reservation, account, costMicros, requestId).onComplete(ar -> {
      if (ar.succeeded()) {
        done.tryComplete();
        return;
      }
      Throwable err = ar.cause();
      if (attempt == 1) {
        LOG.warn("Request {}: charging {} micro-USD failed ({}); retrying", requestId,
            costMicros, err.getMessage());
      }
      if (attempt < SETTLE_TRIES) {
        vertx.setTimer(100L << attempt, id -> settle(reservation, account, costMicros, requestId,
            attempt + 1, done));
      } else {
        LOG.error("Request {}: could not charge {} micro-USD to account {} after {} tries ({});"
            + " charge it by hand with the admin credit route", requestId, costMicros, account,
            SETTLE_TRIES, err.getMessage());
        done.tryComplete();
      }
    });
  }

  /** Micro-USD as a dollar amount for messages, e.g. {@code 0.0125}. */
  static String usd(long micros) {
    return BigDecimal.valueOf(micros, 6).stripTrailingZeros().toPlainString();
  }
}
