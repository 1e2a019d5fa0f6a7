package io.flopex.bench;

import io.flopex.bus.Addresses;
import io.flopex.bus.RoutePlan;
import io.flopex.bus.RouteRequest;
import io.flopex.testing.Chunks;
import io.flopex.testing.ClusterNodes;
import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.Sync;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * How fast a cluster stops routing to a provider that ran out of capacity: from the moment the
 * provider answers 429 to one node until every node's routing leaves it out, over many trials.
 *
 * <p>Three nodes in one JVM, each its own clustered Vert.x instance, talking over loopback TCP
 * as separate machines would. Each trial uses a model of its own, so that no trial starts with
 * the previous one's cooldown. On every node a listener on {@code flopex.health} asks the node's
 * routing for a plan as soon as the news arrives, and again until the plan leaves the provider
 * out; that moment counts as the node having stopped routing there.
 *
 * <p>Not part of the test suite; run it with
 * {@code mvn test -Dflopex.benchmarks=none -Dtest=ConvergenceBenchmark}. Results go to stdout
 * and {@code target/convergence.txt}.
 */
@Tag("benchmark")
class ConvergenceBenchmark {

  private static final int TRIALS = Integer.getInteger("trials", 100);
  private static final int WARMUP = 20;
  private static final int NODES = 3;
  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);

  @Test
  void convergence() throws Exception {
    Vertx upstreams = Vertx.vertx();
    FakeUpstream limited = FakeUpstream.start(upstreams);
    FakeUpstream spare = FakeUpstream.start(upstreams);
    AtomicLong sentAt = new AtomicLong();
    limited.always((req, resp, vertx) -> {
      sentAt.set(System.nanoTime());
      resp.setStatusCode(429).putHeader("retry-after", "600")
          .putHeader("content-type", "application/json")
          .end(FakeUpstream.openAiError("Rate limit reached", "requests",
              "rate_limit_exceeded"));
    });
    try (ClusterNodes cluster = new ClusterNodes()) {
      List<Gateway> nodes = new ArrayList<>();
      for (int n = 0; n < NODES; n++) {
        nodes.add(cluster.start(builder -> {
          builder.provider("limited", limited.baseUrl()).provider("spare", spare.baseUrl());
          for (int t = 0; t < WARMUP + TRIALS; t++) {
            builder.model(new JsonObject().put("id", "m" + t).put("endpoints", new JsonArray()
                .add(endpoint("limited", "up-" + t)).add(endpoint("spare", "up-" + t))));
          }
          return builder;
        }));
      }
      List<Watcher> watchers = new ArrayList<>();
      for (int n = 0; n < NODES; n++) {
        watchers.add(new Watcher(cluster.vertx(n)));
      }
      long[] all = new long[TRIALS];
      long[] others = new long[TRIALS];
      for (int i = 0; i < WARMUP + TRIALS; i++) {
        int t = i - WARMUP;
        String model = "m" + i;
        String upstreamModel = "up-" + i;
        List<CompletableFuture<Long>> stopped = new ArrayList<>();
        for (int n = 0; n < NODES; n++) {
          stopped.add(watchers.get(n).watch(model, upstreamModel));
        }
        nodes.get(0).post("/v1/chat/completions",
            Chunks.request(false, "").replace("\"m\"", "\"" + model + "\""));
        long start = sentAt.get();
        long slowestOther = 0;
        long slowest = 0;
        for (int n = 0; n < NODES; n++) {
          long at = stopped.get(n).get(30, TimeUnit.SECONDS) - start;
          slowest = Math.max(slowest, at);
          if (n > 0) {
            slowestOther = Math.max(slowestOther, at);
          }
        }
        if (t >= 0) {
          all[t] = slowest;
          others[t] = slowestOther;
        }
      }
      String report = "Convergence over " + TRIALS + " trials after " + WARMUP + " to warm up, "
          + NODES + " nodes on loopback"
          + " (" + Runtime.getRuntime().availableProcessors() + " cores, Java "
          + System.getProperty("java.version") + ")\n"
          + "  every node stopped routing to the provider: " + summary(all) + "\n"
          + "  the other nodes, which never called it:     " + summary(others) + "\n"
          + "  joining (clustered Vert.x built and joined), node by node: "
          + cluster.joinNanos().stream().map(n -> String.format("%.0f ms", n / 1e6)).toList()
          + "\n";
      System.out.print(report);
      Files.writeString(Path.of("target", "convergence.txt"), report, StandardCharsets.UTF_8);
    } finally {
      limited.close();
      spare.close();
      Sync.await(upstreams.close());
    }
  }

  private static JsonObject endpoint(String provider, String upstreamModel) {
    return new JsonObject().put("provider", provider).put("upstreamModel", upstreamModel)
        .put("pricing", new JsonObject().put("prompt", 1).put("completion", 1));
  }

  /**
   * One listener per node for the whole run, registered before the first trial so that no
   * subscription changes while it measures. Each completes the trial's future with the time at
   * which the node's routing first leaves the endpoint out, asking as soon as a health fact about
   * the endpoint arrives and then until the plan says so.
   */
  private static final class Watcher {

    private final Vertx node;
    private volatile String model;
    private volatile String upstreamModel;
    private volatile CompletableFuture<Long> result;

    Watcher(Vertx node) {
      this.node = node;
      var consumer = node.eventBus().<JsonObject>consumer(Addresses.HEALTH, message -> {
        CompletableFuture<Long> current = result;
        if (current != null && upstreamModel.equals(message.body().getString("upstreamModel"))) {
          check(node, model, current);
        }
      });
      Sync.await(consumer.completion());
    }

    CompletableFuture<Long> watch(String model, String upstreamModel) {
      this.model = model;
      this.upstreamModel = upstreamModel;
      CompletableFuture<Long> next = new CompletableFuture<>();
      this.result = next;
      return next;
    }
  }

  private static void check(Vertx node, String model, CompletableFuture<Long> result) {
    node.eventBus().<RoutePlan>request(Addresses.ROUTING_PLAN, new RouteRequest(model), LOCAL)
        .onSuccess(reply -> {
          long now = System.nanoTime();
          if (result.isDone()) {
            return;
          }
          if (reply.body().routes().stream().noneMatch(r -> r.provider().equals("limited"))) {
            result.complete(now);
          } else {
            check(node, model, result);
          }
        })
        .onFailure(result::completeExceptionally);
  }

  private static String summary(long[] nanos) {
    long[] sorted = nanos.clone();
    Arrays.sort(sorted);
    return String.format("p50 %.2f ms, p99 %.2f ms, max %.2f ms",
        sorted[(int) Math.ceil(0.50 * sorted.length) - 1] / 1e6,
        sorted[(int) Math.ceil(0.99 * sorted.length) - 1] / 1e6,
        sorted[sorted.length - 1] / 1e6);
  }
}
