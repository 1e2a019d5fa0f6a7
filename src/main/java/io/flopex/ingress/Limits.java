package io.flopex.ingress;

import io.flopex.bus.Failure;
import io.flopex.bus.Route;
import io.flopex.db.KeyCounters;
import io.flopex.db.KeyLimits;
import io.vertx.core.Future;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.UUID;

/**
 * A key's own limits on the request path: admission before anything is sent, the
 * {@code x-ratelimit-*} headers, and counting the request's tokens and cost when it ends.
 */
public final class Limits {

  private final KeyCounters counters;
  private final long defaultMaxOutputTokens;

  public Limits(KeyCounters counters, long defaultMaxOutputTokens) {
    this.counters = counters;
    this.defaultMaxOutputTokens = defaultMaxOutputTokens;
  }

  static boolean applies(KeyLimits limits) {
    return limits != null && limits.counted();
  }

  /**
   * The most tokens or micro-USD one request holds against its key's limits (a million USD):
   * a client's {@code max_tokens} cannot make the shared counts overflow, and a worst case
   * this large passes any spending limit a key is likely to have anyway.
   */
  static final long MAX_HELD = 1_000_000_000_000L;

  /** Admits the request, or fails with the refusal to send the client. */
  Future<KeyCounters.Admission> admit(UUID keyId, JsonObject request, List<Route> routes) {
    long output = Billing.requestedOutputTokens(request);
    long prompt = Billing.promptTokens(request);
    long estimate = output > 0 ? Math.min(MAX_HELD, saturated(prompt, output)) : -1;
    long worstCase = Billing.worstCaseMicros(request, routes,
        output > 0 ? output : defaultMaxOutputTokens);
    return counters.admit(keyId, estimate,
        Math.min(MAX_HELD, saturated(prompt, defaultMaxOutputTokens)),
        Math.min(MAX_HELD, worstCase));
  }

  private static long saturated(long a, long b) {
    long sum = a + b;
    return ((a ^ sum) & (b ^ sum)) < 0 ? Long.MAX_VALUE : sum;
  }

  /** The error for a refused request. */
  static ApiError refusal(KeyCounters.Admission admission) {
    return switch (admission.refusal()) {
      case REQUESTS -> new ApiError(Failure.RATE_LIMITED, "This key's limit of "
          + admission.rpm() + " requests a minute is reached; retry after the time in"
          + " Retry-After.", null);
      case TOKENS -> new ApiError(Failure.RATE_LIMITED, "This key's limit of " + admission.tpm()
          + " tokens a minute is reached; retry after the time in Retry-After.", null);
      case CONCURRENCY -> new ApiError(Failure.RATE_LIMITED, "This key already has as many"
          + " requests in flight as it is allowed; retry when one has finished.", null);
      case CREDIT -> new ApiError(Failure.KEY_LIMIT_EXCEEDED, "This key's spending limit for"
          + " the period would be passed by this request's worst-case cost; raise the key's"
          + " limit_micros or wait for the period to reset.", null);
    };
  }

  /** OpenAI's rate-limit headers, for the limits the key has. */
  static void headers(HttpServerResponse response, KeyCounters.Admission admission) {
    if (response.headWritten()) {
      return;
    }
    if (admission.rpm() > 0) {
      response.putHeader("x-ratelimit-limit-requests", Long.toString(admission.rpm()))
          .putHeader("x-ratelimit-remaining-requests",
              Long.toString(admission.remainingRequests()))
          .putHeader("x-ratelimit-reset-requests", duration(admission.resetRequestsMs()));
    }
    if (admission.tpm() > 0) {
      response.putHeader("x-ratelimit-limit-tokens", Long.toString(admission.tpm()))
          .putHeader("x-ratelimit-remaining-tokens", Long.toString(admission.remainingTokens()))
          .putHeader("x-ratelimit-reset-tokens", duration(admission.resetTokensMs()));
    }
    // A lifetime spending limit never resets: no time to wait for.
    boolean never = admission.refusal() == KeyCounters.Refusal.CREDIT
        && admission.retryAfterMs() == 0;
    if (!admission.admitted() && !never) {
      response.putHeader("retry-after",
          Long.toString(Math.max(1, (admission.retryAfterMs() + 999) / 1000)));
    }
  }

  /** A duration as OpenAI writes it in reset headers, e.g. {@code 6.5s} or {@code 120ms}. */
  static String duration(long millis) {
    return millis < 1000 ? millis + "ms"
        : java.math.BigDecimal.valueOf(millis, 3).stripTrailingZeros().toPlainString() + "s";
  }

  /** Reports what ended and gives back every share; once no request runs any more. */
  public Future<Void> close() {
    return counters.close();
  }

  /** Counts the request's end against its key: what it used, or nothing when never sent. */
  void finish(KeyCounters.Admission admission, boolean sent, long tokens, long costMicros) {
    if (sent) {
      counters.finish(admission.held(), tokens, costMicros);
    } else {
      counters.forget(admission.held());
    }
  }
}
