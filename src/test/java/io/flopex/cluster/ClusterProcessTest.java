package io.flopex.cluster;

import static io.flopex.testing.FakeUpstream.fixture;
import static io.flopex.testing.FakeUpstream.json;
import static io.flopex.testing.FakeUpstream.openAiError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flopex.testing.Chunks;
import io.flopex.testing.ClusterNodes;
import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.Sync;
import io.flopex.testing.TempDirs;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A node in this JVM and a node in a separate process, started as an operator would with
 * {@code --cluster}: the 429 one of them gets keeps the other away from the provider.
 */
class ClusterProcessTest {

  private static final List<String> OPENS = List.of("--add-modules", "java.se",
      "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
      "--add-opens", "java.base/java.lang=ALL-UNNAMED",
      "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
      "--add-opens", "java.management/sun.management=ALL-UNNAMED",
      "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED");

  private Vertx upstreams;
  private FakeUpstream a;
  private FakeUpstream b;
  private ClusterNodes cluster;
  private Path dir;
  private Process child;

  @BeforeEach
  void start() throws Exception {
    upstreams = Vertx.vertx();
    a = FakeUpstream.start(upstreams);
    b = FakeUpstream.start(upstreams);
    b.always(json(200, fixture("openai/openai-text.json")));
    cluster = new ClusterNodes();
    dir = Files.createTempDirectory("flopex-cluster-process");
  }

  @AfterEach
  void stop() throws Exception {
    try {
      if (child != null) {
        child.destroy();
        if (!child.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
          child.destroyForcibly().waitFor();
        }
      }
    } finally {
      cluster.close();
      a.close();
      b.close();
      Sync.await(upstreams.close());
      TempDirs.delete(dir);
    }
  }

  private JsonObject providers() {
    return new JsonObject()
        .put("providers", new JsonArray()
            .add(provider("a", a.baseUrl()))
            .add(provider("b", b.baseUrl())))
        .put("models", new JsonArray().add(new JsonObject().put("id", "m")
            .put("endpoints", new JsonArray()
                .add(endpoint("a"))
                .add(endpoint("b")))));
  }

  private static JsonObject provider(String id, String baseUrl) {
    return new JsonObject().put("id", id).put("kind", "openai-compatible")
        .put("baseUrl", baseUrl).put("apiKey", "sk-upstream-" + id);
  }

  private static JsonObject endpoint(String provider) {
    return new JsonObject().put("provider", provider).put("upstreamModel", "up-" + provider)
        .put("pricing", new JsonObject().put("prompt", 1.5).put("completion", 2.0));
  }

  /** Starts a node as its own process and waits until it reports ready. */
  private int startChild() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    // JSON is YAML: the node reads this file as any operator's configuration.
    JsonObject doc = providers()
        .put("server", new JsonObject().put("port", port).put("instances", 1))
        .put("database", new JsonObject().put("url", cluster.databaseUrl()))
        .put("dataDir", dir.resolve("data").toString())
        .put("cluster", new JsonObject().put("name", cluster.name()).put("host", "127.0.0.1")
            .put("port", cluster.basePort())
            .put("members", new JsonArray().add("127.0.0.1:" + cluster.basePort())));
    Path config = dir.resolve("flopex.yaml");
    Files.writeString(config, doc.encodePrettily(), StandardCharsets.UTF_8);
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx256m");
    command.addAll(OPENS);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.flopex.Main",
        "--config", config.toString(), "--cluster"));
    ProcessBuilder builder = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve("node.log").toFile());
    builder.environment().put("FLOPEX_ADMIN_TOKEN", Gateway.ADMIN_TOKEN);
    child = builder.start();
    HttpClient http = HttpClient.newHttpClient();
    HttpRequest ready = HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + port + "/health/ready")).GET().build();
    await().atMost(Duration.ofSeconds(90)).ignoreExceptions()
        .failFast("the node process exited", () -> !child.isAlive())
        .until(() -> http.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode()
            == 200);
    return port;
  }

  private static HttpResponse<String> send(HttpRequest request) throws Exception {
    return HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void b16_aNodeInAnotherProcessStopsUsingTheProviderThatAnswered429Elsewhere()
      throws Exception {
    Gateway local = cluster.start(builder -> builder
        .provider("a", a.baseUrl())
        .provider("b", b.baseUrl())
        .model("m", "a", "b"));
    int port = startChild();
    a.always(json(429, openAiError("Rate limit reached", "requests", "rate_limit_exceeded"),
        "retry-after", "30"));

    assertThat(local.post("/v1/chat/completions", Chunks.request(false, ""))
        .headers().firstValue("x-flopex-provider")).hasValue("b");
    assertThat(a.calls()).isEqualTo(1);

    HttpRequest view = HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + port + "/admin/v1/endpoints"))
        .header("authorization", "Bearer " + Gateway.ADMIN_TOKEN).GET().build();
    await().atMost(Duration.ofSeconds(10)).until(() -> {
      JsonObject body = new JsonObject(send(view).body());
      return body.getJsonArray("endpoints").stream().map(JsonObject.class::cast)
          .anyMatch(e -> e.getString("provider").equals("a") && e.containsKey("restingUntil"));
    });
    for (int i = 0; i < 3; i++) {
      // The key was created through the in-process node: both nodes share the database.
      HttpResponse<String> response = send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
          .header("authorization", "Bearer " + local.key())
          .header("content-type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(Chunks.request(false, ""))).build());
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.headers().firstValue("x-flopex-provider")).hasValue("b");
      assertThat(response.headers().firstValue("x-flopex-attempts")).hasValue("1");
    }
    assertThat(a.calls()).isEqualTo(1);
  }
}
