package io.flopex.metrics;

import io.flopex.config.FlopexConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.spi.metrics.MetricsProvider;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.micrometer.impl.MicrometerMetrics;
import java.util.Set;
import java.util.UUID;

/**
 * The meter registry of one node: where Vert.x records the groups of its own meters that
 * {@code metrics.vertx} names, where Flopex records its own, and what {@code GET /metrics}
 * serves.
 *
 * <p>Vert.x metrics can only be turned on when the Vert.x instance is built, so the registry is
 * made then ({@link #builder}) and found again from the instance when the node starts
 * ({@link #of}). Each instance has a registry of its own, never Micrometer's global one, so that
 * several nodes in one JVM (as in the tests) each count only their own traffic. A node started
 * on a Vert.x instance built without metrics still serves its own meters, in a registry of its
 * own, without the Vert.x ones.
 */
public final class NodeMetrics {

  private final MeterRegistry registry;
  private final PrometheusMeterRegistry prometheus;
  private final boolean vertxMetrics;
  private final boolean ownRegistry;

  private NodeMetrics(MeterRegistry registry, PrometheusMeterRegistry prometheus,
      boolean vertxMetrics, boolean ownRegistry) {
    this.registry = registry;
    this.prometheus = prometheus;
    this.vertxMetrics = vertxMetrics;
    this.ownRegistry = ownRegistry;
  }

  /**
   * A Vert.x builder with {@code options} and, when metrics are enabled, Vert.x metrics recorded
   * into a new Prometheus registry of this instance's own.
   */
  public static VertxBuilder builder(FlopexConfig.Metrics config, VertxOptions options) {
    VertxBuilder builder = Vertx.builder();
    if (!config.enabled()) {
      return builder.with(options);
    }
    MicrometerMetricsOptions metrics = new MicrometerMetricsOptions()
        .setEnabled(true)
        // Vert.x keeps registries in a static map by name: one name per instance keeps them apart.
        .setRegistryName("flopex-" + UUID.randomUUID())
        .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true))
        .setJvmMetricsEnabled(true)
        // Routes are patterns and client names are provider ids: both bounded. Remote addresses
        // (client IPs on the server side) and event-bus addresses (one per streaming call) are not.
        .addLabels(Label.HTTP_ROUTE, Label.CLIENT_NAME);
    // Only the groups asked for: each meter of the others is moved on every request or message.
    for (MetricsDomain domain : MetricsDomain.values()) {
      if (!recorded(domain, config.vertx())) {
        metrics.addDisabledMetricsCategory(domain);
      }
    }
    if (!config.vertx().contains(FlopexConfig.VertxMeters.POOLS)) {
      // The PostgreSQL client's own meters (vertx_sql_*), which no domain covers.
      metrics.addDisabledMetricsCategory("sql");
    }
    return builder.with(new VertxOptions(options).setMetricsOptions(metrics))
        .withMetrics(new MicrometerMetricsFactory(new PrometheusMeterRegistry(
            PrometheusConfig.DEFAULT)));
  }

  private static boolean recorded(MetricsDomain domain, Set<FlopexConfig.VertxMeters> asked) {
    return switch (domain) {
      case HTTP_SERVER -> asked.contains(FlopexConfig.VertxMeters.HTTP_SERVER);
      case HTTP_CLIENT -> asked.contains(FlopexConfig.VertxMeters.HTTP_CLIENT);
      case EVENT_BUS -> asked.contains(FlopexConfig.VertxMeters.EVENT_BUS);
      case NET_SERVER, NET_CLIENT -> asked.contains(FlopexConfig.VertxMeters.NET);
      case NAMED_POOLS -> asked.contains(FlopexConfig.VertxMeters.POOLS);
      default -> false;
    };
  }

  /** The node's metrics on this Vert.x instance, as {@link #builder} set them up, or not. */
  public static NodeMetrics of(Vertx vertx, FlopexConfig.Metrics config) {
    if (!config.enabled()) {
      // A composite with no registry under it: every meter is a no-op.
      return new NodeMetrics(new CompositeMeterRegistry(), null, false, true);
    }
    // What io.vertx.micrometer.MetricsService does to find an instance's registry.
    if (vertx instanceof MetricsProvider provider
        && provider.getMetrics() instanceof MicrometerMetrics micrometer
        && micrometer.registry() instanceof PrometheusMeterRegistry prometheus) {
      return new NodeMetrics(prometheus, prometheus, true, false);
    }
    PrometheusMeterRegistry own = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    return new NodeMetrics(own, own, false, true);
  }

  /** Where meters are registered; a no-op registry when metrics are off. */
  public MeterRegistry registry() {
    return registry;
  }

  /** The registry to scrape, or null when metrics are off. */
  public PrometheusMeterRegistry prometheus() {
    return prometheus;
  }

  /** Whether Vert.x's own meters are in the registry. */
  public boolean vertxMetrics() {
    return vertxMetrics;
  }

  /** Closes the registry if the node made it; one Vert.x made is closed with Vert.x. */
  public void close() {
    if (ownRegistry) {
      registry.close();
    }
  }
}
