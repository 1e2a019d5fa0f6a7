package io.flopex.config;

import java.net.URI;
import java.util.Map;

/**
 * One upstream provider: where it is, how Flopex authenticates to it, and how long to wait.
 *
 * <p>{@code nativeResponses}: the provider serves the OpenAI Responses API at {@code
 * {baseUrl}/responses}, so Responses requests are passed to it as written rather than by way of
 * Chat Completions.
 *
 * <p>{@link #toString()} never prints the key.
 */
public record ProviderConfig(
    String id,
    ProviderKind kind,
    URI baseUrl,
    String apiKey,
    Timeouts timeouts,
    int maxConnections,
    Map<String, String> headers,
    boolean nativeResponses) {

  /** A provider that is sent Responses API requests by way of Chat Completions. */
  public ProviderConfig(String id, ProviderKind kind, URI baseUrl, String apiKey,
      Timeouts timeouts, int maxConnections, Map<String, String> headers) {
    this(id, kind, baseUrl, apiKey, timeouts, maxConnections, headers, false);
  }

  @Override
  public String toString() {
    return "ProviderConfig[id=" + id + ", kind=" + kind.configName() + ", host=" + baseUrl.getHost()
        + "]";
  }
}
