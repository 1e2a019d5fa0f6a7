package io.flopex.provider;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Incremental parser of a server-sent-events body.
 *
 * <p>Bytes arrive in arbitrary pieces: an event may be split anywhere, including inside a
 * multi-byte character or between the CR and LF of a line end. Lines are decoded only once they
 * are complete, so split characters are never damaged. Lines may end in LF, CRLF or CR; comment
 * lines are skipped; several {@code data:} lines of one event are joined with newlines. An event
 * larger than the cap is reported instead of being truncated, and nothing more is parsed.
 */
public final class SseParser {

  /** Receives complete events. */
  public interface Listener {

    void onEvent(String event, String data);

    void onOversized(int limit);
  }

  private final int maxEventBytes;
  private final Listener listener;
  private byte[] line = new byte[256];
  private int lineLength;
  private boolean lastWasCr;
  private StringBuilder data;
  private String event;
  private int eventBytes;
  private boolean failed;
  private boolean started;

  public SseParser(int maxEventBytes, Listener listener) {
    this.maxEventBytes = maxEventBytes;
    this.listener = listener;
  }

  public void feed(Buffer buffer) {
    byte[] bytes = buffer.getBytes();
    int start = 0;
    if (!started && bytes.length > 0) {
      started = true;
      // A UTF-8 byte-order mark may open the stream; it is not part of the first field name.
      if (bytes.length >= 3 && (bytes[0] & 0xFF) == 0xEF && (bytes[1] & 0xFF) == 0xBB
          && (bytes[2] & 0xFF) == 0xBF) {
        start = 3;
      }
    }
    for (int i = start; i < bytes.length && !failed; i++) {
      byte b = bytes[i];
      if (b == '\n') {
        if (lastWasCr) {
          lastWasCr = false;
          continue;
        }
        endLine();
      } else if (b == '\r') {
        lastWasCr = true;
        endLine();
      } else {
        lastWasCr = false;
        append(b);
      }
    }
  }

  private void append(byte b) {
    if (lineLength == line.length) {
      if (eventBytes + lineLength >= maxEventBytes) {
        fail();
        return;
      }
      line = Arrays.copyOf(line, Math.min(line.length * 2, maxEventBytes + 1));
    }
    line[lineLength++] = b;
  }

  private void endLine() {
    if (lineLength == 0) {
      dispatch();
      return;
    }
    eventBytes += lineLength;
    if (eventBytes > maxEventBytes) {
      fail();
      return;
    }
    if (line[0] != ':') {
      String text = new String(line, 0, lineLength, StandardCharsets.UTF_8);
      int colon = text.indexOf(':');
      String field = colon < 0 ? text : text.substring(0, colon);
      String value = colon < 0 ? "" : text.substring(colon + 1);
      if (value.startsWith(" ")) {
        value = value.substring(1);
      }
      if (field.equals("data")) {
        if (data == null) {
          data = new StringBuilder(value);
        } else {
          data.append('\n').append(value);
        }
      } else if (field.equals("event")) {
        event = value;
      }
    }
    lineLength = 0;
    if (line.length > 64 * 1024) {
      line = new byte[256];
    }
  }

  private void dispatch() {
    if (data != null) {
      String d = data.toString();
      String e = event == null || event.isEmpty() ? "message" : event;
      data = null;
      event = null;
      eventBytes = 0;
      listener.onEvent(e, d);
    } else {
      event = null;
      eventBytes = 0;
    }
  }

  private void fail() {
    failed = true;
    line = new byte[0];
    lineLength = 0;
    data = null;
    listener.onOversized(maxEventBytes);
  }
}
