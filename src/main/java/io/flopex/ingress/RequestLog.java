package io.flopex.ingress;

import io.flopex.bus.UsageRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * One log line per HTTP request, on the logger {@code io.flopex.request}, with its fields as
 * SLF4J key-value pairs: the text format prints them as {@code key="value"} after the message,
 * the JSON format as fields. Every line has {@code request_id}, {@code method}, {@code path},
 * {@code status} and {@code latency_ms}, and {@code key_id} once a key is known; a chat request's
 * line adds {@code model}, {@code provider}, {@code outcome}, {@code attempts}, tokens and cost.
 *
 * <p>What may go in: ids, names from the configuration, numbers, the path without its query and
 * the model the client named (cut to 128 printable characters). Never a key, a token, a header
 * value, a body or any text a provider sent back.
 */
final class RequestLog {

  private static final Logger LOG = LoggerFactory.getLogger("io.flopex.request");

  private RequestLog() {}

  /** The line of a chat request, written once its usage row is recorded. */
  static void chat(String method, String path, UsageRecord record) {
    if (!LOG.isInfoEnabled()) {
      return;
    }
    LOG.atInfo()
        .addKeyValue("request_id", record.requestId())
        .addKeyValue("method", method)
        .addKeyValue("path", path)
        .addKeyValue("status", record.status())
        .addKeyValue("latency_ms", record.latencyMs())
        .addKeyValue("key_id", record.keyId())
        .addKeyValue("model", ChatExchange.printable(record.model()))
        .addKeyValue("provider", record.provider() == null ? "-" : record.provider())
        .addKeyValue("outcome", record.outcome())
        .addKeyValue("attempts", record.attempts().size())
        .addKeyValue("streamed", record.streamed())
        .addKeyValue("ttfb_ms", record.ttfbMs())
        .addKeyValue("prompt_tokens", record.usage().promptTokens())
        .addKeyValue("completion_tokens", record.usage().completionTokens())
        .addKeyValue("cost_micros", record.costMicros())
        .log("{} {} {} {} ms", method, path, record.status(), record.latencyMs());
  }

  /**
   * The line of any other request, written when its response has ended or its connection
   * closed first ({@code status} is then what was to be sent, and {@code closed} is true).
   * Health probes are logged at debug level, since orchestrators poll them every few seconds.
   */
  static void http(String requestId, String method, String path, int status, long latencyMs,
      Object keyId, boolean closedEarly) {
    boolean probe = path.startsWith("/health/");
    if (probe ? !LOG.isDebugEnabled() : !LOG.isInfoEnabled()) {
      return;
    }
    LoggingEventBuilder line = (probe ? LOG.atDebug() : LOG.atInfo())
        .addKeyValue("request_id", requestId)
        .addKeyValue("method", method)
        .addKeyValue("path", path)
        .addKeyValue("status", status)
        .addKeyValue("latency_ms", latencyMs);
    if (keyId != null) {
      line = line.addKeyValue("key_id", keyId);
    }
    if (closedEarly) {
      line = line.addKeyValue("closed", true);
    }
    line.log("{} {} {} {} ms", method, path, status, latencyMs);
  }
}
