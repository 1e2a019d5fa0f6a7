package io.flopex.translate;

/**
 * A request field that the target provider cannot honour and that cannot be dropped without
 * changing the answer (say {@code n: 3} for a provider that returns one choice). Flopex skips
 * that endpoint; if none can take the request, the client gets a 400 naming the field.
 */
public final class UnsupportedRequest extends RuntimeException {

  private final String param;

  public UnsupportedRequest(String param, String message) {
    super(message, null, false, false);
    this.param = param;
  }

  public String param() {
    return param;
  }
}
