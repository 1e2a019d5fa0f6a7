package io.flopex.ingress;

import io.flopex.bus.Failure;
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

  static JsonObject openAiBody(String message, String type, String param, Object code) {
    return new JsonObject().put("error", new JsonObject()
        .put("message", message)
        .put("type", type)
        .put("param", param)
        .put("code", code));
  }
}
