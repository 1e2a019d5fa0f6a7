package io.flopex.logging;

/**
 * An exception as it may be logged: its class and stack trace, and those of its causes, without
 * any message. A failure while translating or parsing a request can carry part of the prompt or
 * the answer in its message (parsers quote what they could not read), and logs must never hold
 * content; the class and the frames are what finding the bug needs.
 */
public final class Redacted extends RuntimeException {

  private final String type;

  private Redacted(Throwable original, Redacted cause) {
    super(null, cause, false, true);
    this.type = original.getClass().getName();
    setStackTrace(original.getStackTrace());
  }

  /** The content-free copy of {@code error} and its causes (at most 16 deep). */
  public static Redacted of(Throwable error) {
    java.util.List<Throwable> chain = new java.util.ArrayList<>();
    for (Throwable t = error; t != null && chain.size() < 16; t = t.getCause()) {
      chain.add(t);
    }
    Redacted copy = null;
    for (int i = chain.size() - 1; i >= 0; i--) {
      copy = new Redacted(chain.get(i), copy);
    }
    return copy;
  }

  /** The original class's name in place of its message, which logs leave out. */
  @Override
  public String getMessage() {
    return type + " (message withheld from logs)";
  }
}
