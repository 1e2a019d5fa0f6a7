package io.flopex.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import io.flopex.config.FlopexConfig;
import io.flopex.metrics.NodeMetrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the Vert.x instance of a node: a plain one, or, with {@code cluster.enabled}, one that
 * joins a Vert.x cluster through the Hazelcast cluster manager.
 *
 * <p>Members find each other over TCP-IP at the addresses in {@code cluster.members} (multicast
 * only when asked for). Without members, a node looks for others on its own host, so that
 * several nodes started on one machine form a cluster by themselves; each takes the first free
 * Hazelcast port from {@code cluster.port} on, and for the event bus {@code cluster.eventBusPort},
 * or a free port when that is 0.
 *
 * <p>An operator who needs full control sets the {@code vertx.hazelcast.config} system property
 * to a Hazelcast XML file; its network section is then used as written.
 */
public final class Clustering {

  private static final Logger LOG = LoggerFactory.getLogger(Clustering.class);

  /** How many ports after {@code cluster.port} are probed for members given without a port. */
  static final int PORTS_PER_HOST = 20;

  private Clustering() {}

  /** The Vert.x instance of a node with this configuration: clustered or not, metrics or not. */
  public static Future<Vertx> vertx(FlopexConfig config) {
    return vertx(config.cluster(), config.metrics(), new VertxOptions());
  }

  /** A node's Vert.x instance without Vert.x's own metrics. */
  public static Future<Vertx> vertx(FlopexConfig.Cluster cluster) {
    return vertx(cluster, FlopexConfig.Metrics.OFF, new VertxOptions());
  }

  public static Future<Vertx> vertx(FlopexConfig.Cluster cluster, FlopexConfig.Metrics metrics) {
    return vertx(cluster, metrics, new VertxOptions());
  }

  public static Future<Vertx> vertx(FlopexConfig.Cluster cluster, FlopexConfig.Metrics metrics,
      VertxOptions options) {
    if (!cluster.enabled()) {
      return Future.succeededFuture(NodeMetrics.builder(metrics, options).build());
    }
    defaultProperty("hazelcast.logging.type", "slf4j");
    // Join at once instead of waiting five seconds for more members to show up.
    defaultProperty("hazelcast.wait.seconds.before.join", "0");
    defaultProperty("hazelcast.phone.home.enabled", "false");
    // Flopex leaves the cluster itself, after its requests have drained.
    defaultProperty("hazelcast.shutdownhook.enabled", "false");
    defaultProperty("hazelcast.tcp.join.port.try.count", Integer.toString(PORTS_PER_HOST));
    Config config = ConfigUtil.loadConfig();
    config.setClusterName(cluster.name());
    if (System.getProperty("vertx.hazelcast.config") == null
        && network(config.getNetworkConfig(), cluster) != null) {
      // Listen on the chosen interface only, not on every address of the machine.
      config.setProperty("hazelcast.socket.bind.any", "false");
    }
    String host = cluster.host() != null ? cluster.host() : "127.0.0.1";
    if (cluster.host() != null || (cluster.members().isEmpty() && !cluster.multicast())) {
      options.getEventBusOptions().setHost(host);
    }
    options.getEventBusOptions().setPort(cluster.eventBusPort());
    long started = System.nanoTime();
    return NodeMetrics.builder(metrics, options)
        .withClusterManager(new HazelcastClusterManager(config))
        .buildClustered()
        .recover(err -> Future.failedFuture(new IllegalStateException("Could not join cluster '"
            + cluster.name() + "' (cluster.host " + (cluster.host() == null ? "unset"
            : cluster.host()) + ", cluster.port " + cluster.port() + ", cluster.members "
            + cluster.members() + "): " + err.getMessage(), err)))
        .onSuccess(vertx -> LOG.info("Joined cluster '{}' in {} ms", cluster.name(),
            (System.nanoTime() - started) / 1_000_000));
  }

  /** Sets up discovery; returns the one interface chosen, or null when Hazelcast chooses. */
  private static String network(NetworkConfig network, FlopexConfig.Cluster cluster) {
    String host = cluster.host();
    List<String> members = cluster.members();
    if (host == null && members.isEmpty() && !cluster.multicast()) {
      // Nodes on one machine, the quick start: find each other on the loopback interface.
      host = "127.0.0.1";
    }
    network.setPort(cluster.port()).setPortAutoIncrement(true).setPortCount(PORTS_PER_HOST * 5);
    if (host != null) {
      network.getInterfaces().setEnabled(true).setInterfaces(List.of(host));
    }
    JoinConfig join = network.getJoin();
    join.getAutoDetectionConfig().setEnabled(false);
    join.getMulticastConfig().setEnabled(cluster.multicast());
    if (!cluster.multicast() || !members.isEmpty()) {
      join.getTcpIpConfig().setEnabled(true)
          .setMembers(members.isEmpty() ? List.of(host) : members);
    }
    return host;
  }

  private static void defaultProperty(String name, String value) {
    if (System.getProperty(name) == null) {
      System.setProperty(name, value);
    }
  }
}
