package io.flopex.config;

import java.nio.file.Path;
import java.util.List;

/** The whole, validated configuration of one Flopex node. */
public record FlopexConfig(
    Server server,
    Database database,
    Path dataDir,
    String adminToken,
    Routing routing,
    Usage usage,
    Retention retention,
    List<ProviderConfig> providers,
    List<ModelConfig> models) {

  /** HTTP ingress settings. {@code instances} of 0 means one per event loop. */
  public record Server(
      String host,
      int port,
      long maxBodyBytes,
      long bodyTimeoutMs,
      int maxSseEventBytes,
      int instances,
      long shutdownGraceMs) {}

  /** An external PostgreSQL URL, or {@code null} to run the embedded server. */
  public record Database(String url, int poolSize) {

    @Override
    public String toString() {
      return url == null ? "embedded" : "external";
    }
  }

  /** Bounds on how a request moves between endpoints, and how long a full one rests. */
  public record Routing(int maxAttempts, long defaultCooldownMs) {}

  /** How usage rows are batched into PostgreSQL. */
  public record Usage(int batchSize, long flushIntervalMs, int maxPending) {}

  /** How long usage metadata is kept, and how often the purge runs. */
  public record Retention(int usageDays, long intervalMs) {}

  @Override
  public String toString() {
    return "FlopexConfig[port=" + server.port() + ", database=" + database + ", providers="
        + providers + "]";
  }
}
