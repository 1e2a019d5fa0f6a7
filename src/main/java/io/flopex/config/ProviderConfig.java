package io.flopex.config;

import java.net.URI;
import java.util.Map;

/**
 * One upstream provider: where it is, how Flopex authenticates to it, and how long to wait.
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
    Map<String, String> headers) {

  @Override
  public String toString() {
    return "ProviderConfig[id=" + id + ", kind=" + kind.configName() + ", host=" + baseUrl.getHost()
        + "]";
  }
}
