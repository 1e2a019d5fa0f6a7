package io.flopex.e2e;

import static io.flopex.testing.FakeUpstream.json;
import static io.flopex.testing.FakeUpstream.openAiError;
import static io.flopex.testing.FakeUpstream.sse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flopex.testing.Chunks;
import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.Sync;
import io.flopex.testing.TempDirs;
import io.flopex.testing.TestPostgres;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
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
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Readiness and graceful shutdown: a node reports what it depends on, turns not-ready as soon as
 * it is asked to stop, lets streams in flight finish, and loses nothing metered.
 */
class ShutdownTest {

  private static final int CHUNKS = 20;

  private Vertx vertx;
  private FakeUpstream upstream;
  private final HttpClient http = HttpClient.newHttpClient();
  /**
   * HTTP/1.1, as the providers' SDKs speak to a plain-text gateway. (Over HTTP/2 a stopping node
   * sends GOAWAY and lets open streams finish; the JDK 17 client aborts its streams on GOAWAY.)
   */
  private final HttpClient http1 = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).build();

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    upstream = FakeUpstream.start(vertx);
  }

  @AfterEach
  void stop() {
    upstream.close();
    Sync.await(vertx.close());
  }

  /** A stream of {@link #CHUNKS} pieces, 50 ms apart: a second of streaming. */
  private static List<String> slowStream() {
    List<String> events = new ArrayList<>();
    for (int i = 0; i < CHUNKS; i++) {
      events.add(Chunks.content("piece" + i + " "));
    }
    events.add(Chunks.finish("stop"));
    events.add(Chunks.usage(10, CHUNKS));
    return events;
  }

  private int readiness(int port) {
    try {
      return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
          + "/health/ready")).GET().build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (Exception refused) {
      return -1;
    }
  }

  /** Opens a stream and reads it until its first piece of content; returns the lines left. */
  private java.util.Iterator<String> openStream(int port, String key, String requestId)
      throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
            + "/v1/chat/completions"))
        .header("authorization", "Bearer " + key).header("content-type", "application/json")
        .header("x-request-id", requestId)
        .POST(HttpRequest.BodyPublishers.ofString(Chunks.request(true, ""))).build();
    HttpResponse<java.util.stream.Stream<String>> response =
        http1.send(request, HttpResponse.BodyHandlers.ofLines());
    assertThat(response.statusCode()).isEqualTo(200);
    java.util.Iterator<String> lines = response.body().iterator();
    String line = lines.next();
    while (!line.contains("piece0")) {
      line = lines.next();
    }
    return lines;
  }

  private static String drain(java.util.Iterator<String> lines) {
    StringBuilder rest = new StringBuilder();
    lines.forEachRemaining(line -> rest.append(line).append('\n'));
    return rest.toString();
  }

  private List<Row> query(String databaseUrl, String sql) {
    Pool pool = PgBuilder.pool().connectingTo(PgConnectOptions.fromUri(databaseUrl))
        .using(vertx).build();
    try {
      List<Row> rows = new ArrayList<>();
      Sync.await(pool.query(sql).execute()).forEach(rows::add);
      return rows;
    } finally {
      Sync.await(pool.close());
    }
  }

  @Test
  void readinessReportsTheDatabaseTheClusterAndTheProviders() {
    try (Gateway gateway = Gateway.builder(vertx).provider("a", upstream.baseUrl())
        .provider("b", upstream.baseUrl()).model("m", "a", "b").start()) {
      JsonObject ready = new JsonObject(gateway.send(HttpRequest.newBuilder(URI.create(
          gateway.url("/health/ready"))).GET().build()).body());
      assertThat(ready.getString("status")).isEqualTo("ready");
      assertThat(ready.getString("database")).isEqualTo("up");
      assertThat(ready.getJsonObject("cluster").getBoolean("enabled")).isFalse();
      assertThat(ready.getJsonObject("providers")).isEqualTo(new JsonObject()
          .put("endpoints", 2).put("available", 2).put("resting", 0).put("circuits_open", 0));

      upstream.then(json(429, openAiError("slow down", "requests", "rate_limit_exceeded"),
          "retry-after", "60"));
      upstream.then(json(200, new JsonObject().put("id", "c").put("object", "chat.completion")
          .put("created", 1).put("model", "up").put("choices", new JsonArray())
          .encode()));
      gateway.post("/v1/chat/completions", Chunks.request(false, ""));

      // A provider out of capacity is reported, but the node stays ready: every node sees it.
      HttpResponse<String> after = gateway.send(HttpRequest.newBuilder(URI.create(
          gateway.url("/health/ready"))).GET().build());
      assertThat(after.statusCode()).isEqualTo(200);
      assertThat(new JsonObject(after.body()).getJsonObject("providers"))
          .isEqualTo(new JsonObject().put("endpoints", 2).put("available", 1).put("resting", 1)
              .put("circuits_open", 0));
    }
  }

  @Test
  void aStreamInFlightFinishesAndIsChargedWhileTheNodeStops() throws Exception {
    String database = TestPostgres.newDatabaseUrl();
    Gateway gateway = Gateway.builder(vertx)
        .provider("a", upstream.baseUrl())
        .model("m", new JsonObject().put("prompt", 1).put("completion", 1000), "a")
        .database(database)
        .billing()
        .server("drainDelayMs", 1000)
        .server("shutdownGraceMs", 10_000)
        .start();
    gateway.adminPost("/admin/v1/accounts/" + gateway.accountId() + "/credits",
        new JsonObject().put("amount_micros", 10_000_000).put("reason", "test"));
    upstream.then(sse(slowStream(), 50, true));
    String id = UUID.randomUUID().toString();
    java.util.Iterator<String> stream = openStream(gateway.port(), gateway.key(), id);

    Future<Void> closed = gateway.flopex().close();
    await().atMost(Duration.ofSeconds(5)).until(() -> readiness(gateway.port()) == 503);
    assertThat(drain(stream)).contains("piece" + (CHUNKS - 1)).contains("[DONE]");
    Sync.await(closed);
    gateway.close();

    Row row = query(database, "SELECT outcome, completion_tokens, cost_micros FROM usage_events"
        + " WHERE request_id = '" + id + "'").get(0);
    assertThat(row.getString("outcome")).isEqualTo("success");
    assertThat(row.getLong("completion_tokens")).isEqualTo(CHUNKS);
    assertThat(row.getLong("cost_micros")).isEqualTo(CHUNKS * 1000 + 10);
    assertThat(query(database, "SELECT amount_micros FROM ledger WHERE request_id = '" + id
        + "'").get(0).getLong(0)).isEqualTo(-(CHUNKS * 1000 + 10));
    assertThat(query(database, "SELECT reserved_micros FROM accounts").get(0).getLong(0))
        .isZero();
  }

  /** Over HTTP/2 the stopping node sends GOAWAY, and the stream already open carries on. */
  @Test
  void anHttp2StreamCarriesOnAfterGoaway() {
    Gateway gateway = Gateway.builder(vertx).provider("a", upstream.baseUrl()).model("m", "a")
        .server("shutdownGraceMs", 10_000).start();
    io.vertx.core.http.HttpClient client = vertx.createHttpClient(
        new io.vertx.core.http.HttpClientOptions()
            .setProtocolVersion(io.vertx.core.http.HttpVersion.HTTP_2)
            .setHttp2ClearTextUpgrade(false));
    try {
      upstream.then(sse(slowStream(), 50, true));
      StringBuilder body = new StringBuilder();
      io.vertx.core.Promise<Void> firstPiece = io.vertx.core.Promise.promise();
      Future<Void> ended = client.request(io.vertx.core.http.HttpMethod.POST, gateway.port(),
              "127.0.0.1", "/v1/chat/completions")
          .compose(request -> request
              .putHeader("authorization", "Bearer " + gateway.key())
              .putHeader("content-type", "application/json")
              .send(Chunks.request(true, "")))
          .compose(response -> {
            assertThat(response.version()).isEqualTo(io.vertx.core.http.HttpVersion.HTTP_2);
            response.handler(chunk -> {
              synchronized (body) {
                body.append(chunk.toString(StandardCharsets.UTF_8));
                if (body.indexOf("piece0") >= 0) {
                  firstPiece.tryComplete();
                }
              }
            });
            return response.end();
          });
      Sync.await(firstPiece.future());
      Future<Void> closed = gateway.flopex().close();
      Sync.await(ended);
      synchronized (body) {
        assertThat(body.toString()).contains("piece" + (CHUNKS - 1)).contains("[DONE]");
      }
      Sync.await(closed);
    } finally {
      Sync.await(client.close());
      gateway.close();
    }
  }

  /** SIGTERM to a real process: the same, through the JVM's shutdown hook. */
  @Test
  void sigtermLetsAStreamFinishAndItsUsageRowLand() throws Exception {
    String database = TestPostgres.newDatabaseUrl();
    Path dir = Files.createTempDirectory("flopex-sigterm");
    Process node = null;
    try {
      int port;
      try (ServerSocket socket = new ServerSocket(0)) {
        port = socket.getLocalPort();
      }
      JsonObject doc = new JsonObject()
          .put("server", new JsonObject().put("port", port).put("instances", 1)
              .put("drainDelayMs", 1000))
          .put("database", new JsonObject().put("url", database))
          .put("dataDir", dir.resolve("data").toString())
          .put("providers", new JsonArray().add(new JsonObject().put("id", "a")
              .put("kind", "openai").put("baseUrl", upstream.baseUrl()).put("apiKey", "sk-x")))
          .put("models", new JsonArray().add(new JsonObject().put("id", "m")
              .put("endpoints", new JsonArray().add(new JsonObject().put("provider", "a")
                  .put("upstreamModel", "up-a").put("pricing", new JsonObject()
                      .put("prompt", 0).put("completion", 0))))));
      Path config = Files.writeString(dir.resolve("flopex.yaml"), doc.encodePrettily(),
          StandardCharsets.UTF_8);
      ProcessBuilder builder = new ProcessBuilder(
          Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
          // The packaged logging configuration, which logs the shutdown's steps.
          "-Dlogback.configurationFile=" + Path.of(ShutdownTest.class.getResource(
              "/logback.xml").toURI()),
          "-cp", System.getProperty("java.class.path"), "io.flopex.Main", "--config",
          config.toString())
          .redirectErrorStream(true)
          .redirectOutput(dir.resolve("node.log").toFile());
      builder.environment().put("FLOPEX_ADMIN_TOKEN", Gateway.ADMIN_TOKEN);
      node = builder.start();
      Process running = node;
      int nodePort = port;
      await().atMost(Duration.ofSeconds(90))
          .failFast("the node process exited", () -> !running.isAlive())
          .until(() -> readiness(nodePort) == 200);

      String account = new JsonObject(http.send(HttpRequest.newBuilder(URI.create(
              "http://127.0.0.1:" + port + "/admin/v1/accounts"))
          .header("authorization", "Bearer " + Gateway.ADMIN_TOKEN)
          .POST(HttpRequest.BodyPublishers.ofString("{\"email\":\"t@example.com\"}")).build(),
          HttpResponse.BodyHandlers.ofString()).body()).getString("id");
      String key = new JsonObject(http.send(HttpRequest.newBuilder(URI.create(
              "http://127.0.0.1:" + port + "/admin/v1/accounts/" + account + "/keys"))
          .header("authorization", "Bearer " + Gateway.ADMIN_TOKEN)
          .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"k\"}")).build(),
          HttpResponse.BodyHandlers.ofString()).body()).getString("key");

      upstream.then(sse(slowStream(), 50, true));
      String id = UUID.randomUUID().toString();
      java.util.Iterator<String> stream = openStream(port, key, id);

      node.destroy(); // SIGTERM
      await().atMost(Duration.ofSeconds(5)).until(() -> readiness(nodePort) == 503);
      assertThat(drain(stream)).contains("piece" + (CHUNKS - 1)).contains("[DONE]");
      assertThat(node.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      assertThat(Files.readString(dir.resolve("node.log"))).contains("Shutting down")
          .doesNotContain("Shutdown did not complete");

      Row row = query(database, "SELECT outcome, completion_tokens FROM usage_events"
          + " WHERE request_id = '" + id + "'").get(0);
      assertThat(row.getString("outcome")).isEqualTo("success");
      assertThat(row.getLong("completion_tokens")).isEqualTo(CHUNKS);
    } finally {
      if (node != null && node.isAlive()) {
        node.destroyForcibly().waitFor();
      }
      TempDirs.delete(dir);
    }
  }
}
