package io.flopex.ingress;

import io.flopex.bus.Failure;
import io.flopex.translate.ClientFormat;
import io.vertx.core.json.JsonObject;

/**
 * A failure ready to answer: the catalogue entry, the message for the client, and the request
 * field it concerns. Thrown inside request handling and turned into an OpenAI-shaped error body;
 * it carries no stack trace because it is expected.
 */
public final class ApiError extends RuntimeException {

  private final Failure failure;
  private final String param;
  private final int status;

  public ApiError(Failure failure, String message, String param) {
    this(failure, failure.status(), message, param);
  }

  public ApiError(Failure failure, int status, String message, String param) {
    super(message, null, false, false);
    this.failure = failure;
    this.status = status;
    this.param = param;
  }

  public Failure failure() {
    return failure;
  }

  public int status() {
    return status;
  }

  public String param() {
    return param;
  }

  /** {@code {"error":{"message","type","param","code"}}}, as OpenAI answers. */
  public JsonObject toOpenAi() {
    return openAiBody(getMessage(), failure.type(), param, failure.code());
  }

  /** The error body in the dialect of the client that sent the request. */
  public JsonObject body(ClientFormat format) {
    return format == ClientFormat.ANTHROPIC_MESSAGES
        ? anthropicBody(status, getMessage()) : toOpenAi();
  }

  /** {@code {"type":"error","error":{"type","message"}}}, with Anthropic's type for the status. */
  static JsonObject anthropicBody(int status, String message) {
    String type = switch (status) {
      case 400, 405, 408, 415 -> "invalid_request_error";
      case 401 -> "authentication_error";
      case 402 -> "billing_error";
      case 403 -> "permission_error";
      case 404 -> "not_found_error";
      case 413 -> "request_too_large";
      case 429 -> "rate_limit_error";
      case 503, 529 -> "overloaded_error";
      case 504 -> "timeout_error";
      default -> status >= 400 && status < 500 ? "invalid_request_error" : "api_error";
    };
    return new JsonObject().put("type", "error")
        .put("error", new JsonObject().put("type", type).put("message", message));
  }

  static JsonObject openAiBody(String message, String type, String param, Object code) {
    return new JsonObject().put("error", new JsonObject()
        .put("message", message)
        .put("type", type)
        .put("param", param)
        .put("code", code));
  }
}
