package io.flopex.testing;

import io.flopex.cluster.Clustering;
import io.flopex.config.FlopexConfig;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.UnaryOperator;

/**
 * Several Flopex nodes in one JVM, each with its own clustered Vert.x instance talking to the
 * others over loopback TCP, sharing one database as the nodes of a real cluster do. The cluster
 * has a name of its own, so that no other test's nodes can join it.
 */
public final class ClusterNodes implements AutoCloseable {

  private final String name = "flopex-test-" + UUID.randomUUID();
  private final int basePort = freePort();
  private final String databaseUrl = TestPostgres.newDatabaseUrl();
  private final List<Vertx> vertxes = new ArrayList<>();
  private final List<Gateway> gateways = new ArrayList<>();
  private final List<Long> joinNanos = new ArrayList<>();

  /** How long each node took to build its clustered Vert.x instance and join, in order. */
  public List<Long> joinNanos() {
    return joinNanos;
  }

  public FlopexConfig.Cluster config() {
    return new FlopexConfig.Cluster(true, name, "127.0.0.1", basePort,
        List.of("127.0.0.1:" + basePort), false);
  }

  public String name() {
    return name;
  }

  public int basePort() {
    return basePort;
  }

  public String databaseUrl() {
    return databaseUrl;
  }

  /** Starts one more node, configured by {@code setup} on top of the shared cluster settings. */
  public Gateway start(UnaryOperator<Gateway.Builder> setup) {
    long started = System.nanoTime();
    Vertx vertx = Sync.await(Clustering.vertx(config()));
    joinNanos.add(System.nanoTime() - started);
    vertxes.add(vertx);
    FlopexConfig.Cluster c = config();
    Gateway gateway = setup.apply(Gateway.builder(vertx).database(databaseUrl)
            .cluster("enabled", true).cluster("name", c.name()).cluster("host", c.host())
            .cluster("port", c.port()).cluster("members", new io.vertx.core.json.JsonArray(
                c.members())))
        .start();
    gateways.add(gateway);
    return gateway;
  }

  public Vertx vertx(int node) {
    return vertxes.get(node);
  }

  /** This node's view of one endpoint, from its admin API. */
  public static JsonObject endpoint(Gateway node, String model, String provider) {
    for (Object e : node.adminGet("/admin/v1/endpoints").getJsonArray("endpoints")) {
      JsonObject endpoint = (JsonObject) e;
      if (endpoint.getString("model").equals(model)
          && endpoint.getString("provider").equals(provider)) {
        return endpoint;
      }
    }
    throw new IllegalArgumentException("no endpoint " + provider + " for " + model);
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    for (Gateway gateway : gateways) {
      gateway.close();
    }
    Sync.await(io.vertx.core.Future.all(vertxes.stream().map(Vertx::close).toList()));
  }
}
