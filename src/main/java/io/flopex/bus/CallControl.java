package io.flopex.bus;

/** Steers a call in progress: the client went away, or cannot keep up with the stream. */
public record CallControl(String callId, Action action) {

  /** What to do with the call. */
  public enum Action {
    /** Abort the upstream request and close its connection. */
    CANCEL,
    /** Stop reading the upstream body until {@link #RESUME}. */
    PAUSE,
    RESUME
  }
}
