package io.flopex.bus;

/**
 * The catalogue of failures a client can see. Each has a stable key (also the metric label and
 * the usage row's outcome), an HTTP status, and the {@code type} and {@code code} of the error
 * body in OpenAI's format.
 */
public enum Failure {
  INVALID_JSON(400, "invalid_request_error", "invalid_json"),
  INVALID_REQUEST(400, "invalid_request_error", "invalid_request"),
  CONTEXT_LENGTH_EXCEEDED(400, "invalid_request_error", "context_length_exceeded"),
  UNAUTHENTICATED(401, "authentication_error", "invalid_api_key"),
  NOT_FOUND(404, "invalid_request_error", "not_found"),
  MODEL_NOT_FOUND(404, "invalid_request_error", "model_not_found"),
  METHOD_NOT_ALLOWED(405, "invalid_request_error", "method_not_allowed"),
  /** The account's wallet does not cover the request's worst-case cost. */
  INSUFFICIENT_CREDITS(402, "insufficient_quota", "insufficient_credits"),
  /** The key's own spending limit for the period would be passed. */
  KEY_LIMIT_EXCEEDED(402, "insufficient_quota", "key_limit_exceeded"),
  /** The key may not use this model. */
  MODEL_NOT_ALLOWED(403, "permission_error", "model_not_allowed"),
  REQUEST_TIMEOUT(408, "invalid_request_error", "request_timeout"),
  BODY_TOO_LARGE(413, "invalid_request_error", "request_too_large"),
  UNSUPPORTED_MEDIA_TYPE(415, "invalid_request_error", "unsupported_media_type"),
  /** The key's requests, tokens or requests in flight are at their limit. */
  RATE_LIMITED(429, "rate_limit_error", "rate_limit_exceeded"),
  /** The upstream refused the client's own request (400, 404, 422); its status is kept. */
  UPSTREAM_CLIENT_ERROR(400, "invalid_request_error", "upstream_rejected_request"),
  UPSTREAM_AUTH_FAILED(502, "upstream_error", "upstream_auth_failed"),
  UPSTREAM_ERROR(502, "upstream_error", "upstream_error"),
  UPSTREAM_UNAVAILABLE(503, "upstream_error", "upstream_unavailable"),
  UPSTREAM_TIMEOUT(504, "upstream_error", "upstream_timeout"),
  /** A stream failed after content was sent; reported in-band. */
  STREAM_INTERRUPTED(502, "upstream_error", "stream_interrupted"),
  CLIENT_DISCONNECTED(499, "invalid_request_error", "client_disconnected"),
  /** The client stopped reading a stream for longer than the provider's idle timeout. */
  CLIENT_TOO_SLOW(408, "invalid_request_error", "client_too_slow"),
  NOT_READY(503, "server_error", "not_ready"),
  /** The wallet could not be reached; the request was refused rather than sent unpaid. */
  BILLING_UNAVAILABLE(503, "server_error", "billing_unavailable"),
  /** The shared counters of the key's limits could not be reached; refused rather than let by. */
  LIMITS_UNAVAILABLE(503, "server_error", "limits_unavailable"),
  /** Too many usage rows wait to be written; refused rather than served unmetered. */
  METERING_UNAVAILABLE(503, "server_error", "metering_unavailable"),
  INTERNAL(500, "server_error", "internal_error");

  private final int status;
  private final String type;
  private final String code;

  Failure(int status, String type, String code) {
    this.status = status;
    this.type = type;
    this.code = code;
  }

  public int status() {
    return status;
  }

  public String type() {
    return type;
  }

  public String code() {
    return code;
  }

  /** The low-cardinality label used in usage rows and metrics. */
  public String key() {
    return name().toLowerCase();
  }
}
