package io.flopex.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.StackTraceElementProxy;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Collects every log line of every logger, at debug level and above, as the text an operator
 * would read, key-value pairs and stack traces included.
 */
public final class LogCapture extends AppenderBase<ILoggingEvent> implements AutoCloseable {

  private final List<String> lines = new ArrayList<>();
  private final List<ILoggingEvent> events = new ArrayList<>();
  private final Logger root;
  private final Level previousRoot;
  private final Logger flopex;
  private final Level previousFlopex;

  private LogCapture() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    flopex = context.getLogger("io.flopex");
    previousRoot = root.getLevel();
    previousFlopex = flopex.getLevel();
    setContext(context);
  }

  /** Starts capturing, with every logger turned up to debug. */
  public static LogCapture debug() {
    LogCapture capture = new LogCapture();
    capture.start();
    capture.root.setLevel(Level.DEBUG);
    capture.flopex.setLevel(Level.DEBUG);
    capture.root.addAppender(capture);
    return capture;
  }

  @Override
  protected synchronized void append(ILoggingEvent event) {
    events.add(event);
    StringBuilder line = new StringBuilder(event.getLoggerName()).append(' ')
        .append(event.getFormattedMessage());
    if (event.getKeyValuePairs() != null) {
      for (org.slf4j.event.KeyValuePair pair : event.getKeyValuePairs()) {
        line.append(' ').append(pair.key).append('=').append(pair.value);
      }
    }
    IThrowableProxy t = event.getThrowableProxy();
    while (t != null) {
      line.append('\n').append(t.getClassName()).append(": ").append(t.getMessage());
      for (StackTraceElementProxy frame : t.getStackTraceElementProxyArray()) {
        line.append("\n  ").append(frame.getSTEAsString());
      }
      t = t.getCause();
    }
    lines.add(line.toString());
  }

  /** The key-value pairs of each line logged by {@code logger}, in order. */
  public synchronized List<java.util.Map<String, Object>> pairs(String logger) {
    List<java.util.Map<String, Object>> out = new ArrayList<>();
    for (ILoggingEvent event : events) {
      if (event.getLoggerName().equals(logger)) {
        java.util.Map<String, Object> pairs = new java.util.LinkedHashMap<>();
        if (event.getKeyValuePairs() != null) {
          event.getKeyValuePairs().forEach(pair -> pairs.put(pair.key, pair.value));
        }
        out.add(pairs);
      }
    }
    return out;
  }

  /** The lines logged by {@code logger}, in order. */
  public synchronized List<ILoggingEvent> events(String logger) {
    return events.stream().filter(e -> e.getLoggerName().equals(logger)).toList();
  }

  public synchronized String text() {
    return String.join("\n", lines);
  }

  @Override
  public void close() {
    root.detachAppender(this);
    root.setLevel(previousRoot);
    flopex.setLevel(previousFlopex);
    stop();
  }
}
