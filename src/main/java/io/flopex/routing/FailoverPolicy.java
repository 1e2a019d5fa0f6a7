package io.flopex.routing;

import io.flopex.bus.Failure;
import io.flopex.bus.ProviderFailure;

/**
 * Which attempt failures move a request on to the next endpoint, and what the client is told
 * when none is left.
 *
 * <p>Connection failures, timeouts, 429, 5xx and malformed answers are the provider's trouble, and
 * so are 401 and 403: a bad provider key is the operator's fault, never the client's. The
 * client's own mistakes (400, 404, 409, 413, 422) are answered at once: another provider would
 * refuse the same request.
 */
public final class FailoverPolicy {

  private FailoverPolicy() {}

  public static boolean movesOn(ProviderFailure failure) {
    return failure.kind() != ProviderFailure.Kind.HTTP_STATUS || failure.clientError() == null;
  }

  /** A prompt too long for the model: only a model with a larger window can take it. */
  public static boolean needsLargerWindow(ProviderFailure failure) {
    return failure.kind() == ProviderFailure.Kind.CONTEXT_LENGTH;
  }

  /** The failure the client sees when every attempt failed, judged by the last one. */
  public static Failure exhausted(ProviderFailure last) {
    return switch (last.kind()) {
      case FIRST_BYTE_TIMEOUT, IDLE_TIMEOUT, RESPONSE_TIMEOUT -> Failure.UPSTREAM_TIMEOUT;
      case HTTP_STATUS -> switch (last.status()) {
        case 401, 403 -> Failure.UPSTREAM_AUTH_FAILED;
        case 429, 503, 529 -> Failure.UPSTREAM_UNAVAILABLE;
        case 504 -> Failure.UPSTREAM_TIMEOUT;
        default -> Failure.UPSTREAM_ERROR;
      };
      default -> Failure.UPSTREAM_ERROR;
    };
  }

  /** Gateway words for what went wrong; never the provider's text, URL or key. */
  public static String explain(ProviderFailure last) {
    return switch (last.kind()) {
      case HTTP_STATUS -> switch (last.status()) {
        case 401, 403 -> "upstream authentication failed (HTTP " + last.status() + ")";
        case 429 -> "upstream is rate limiting (HTTP 429)";
        default -> "upstream returned HTTP " + last.status();
      };
      default -> last.kind().description();
    };
  }
}
