package io.flopex.bus;

import io.vertx.core.json.JsonObject;

/**
 * Why one attempt failed.
 *
 * <p>{@code clientError} is the upstream's own error object, kept only so that a client mistake
 * (400, 404, 422) can be answered in the upstream's words. It may echo the prompt, so it goes back
 * to the client that sent the request and nowhere else: never into a log, a metric or a row.
 */
public record ProviderFailure(Kind kind, int status, long retryAfterMs, JsonObject clientError) {

  /** What went wrong, in words safe to log. */
  public enum Kind {
    CONNECT("connection failed"),
    FIRST_BYTE_TIMEOUT("no first byte in time"),
    IDLE_TIMEOUT("stream went idle"),
    RESPONSE_TIMEOUT("no complete response in time"),
    HTTP_STATUS("upstream returned an error status"),
    /** The prompt does not fit the model's window: a larger model may take it. */
    CONTEXT_LENGTH("prompt longer than the model's context window"),
    PROTOCOL("malformed upstream response"),
    STREAM_ERROR("upstream sent an error event"),
    STREAM_CUT("stream ended before it finished"),
    EVENT_TOO_LARGE("stream event above the size cap"),
    CANCELLED("cancelled"),
    /** The endpoint was in the plan but not called: it cannot take the request as written. */
    NOT_ATTEMPTED("not attempted");

    private final String description;

    Kind(String description) {
      this.description = description;
    }

    public String description() {
      return description;
    }
  }

  public static ProviderFailure of(Kind kind) {
    return new ProviderFailure(kind, 0, 0, null);
  }

  /** A short label for logs, headers and usage rows, e.g. {@code http_503} or {@code connect}. */
  public String label() {
    return kind == Kind.HTTP_STATUS ? "http_" + status : kind.name().toLowerCase();
  }

  @Override
  public String toString() {
    return "ProviderFailure[" + label() + "]";
  }
}
