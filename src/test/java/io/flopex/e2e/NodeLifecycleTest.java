package io.flopex.e2e;

import static io.flopex.testing.FakeUpstream.fixture;
import static io.flopex.testing.FakeUpstream.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.openai.errors.NotFoundException;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.flopex.Flopex;
import io.flopex.config.ConfigLoader;
import io.flopex.config.FlopexConfig;
import io.flopex.testing.Chunks;
import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.Sync;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Health probes, the admin API, the model list, and the embedded database across restarts. */
class NodeLifecycleTest {

  private static Vertx vertx;
  private static FakeUpstream upstream;

  @TempDir
  Path tempDir;
  private static Gateway gateway;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    upstream = FakeUpstream.start(vertx).always(json(200, fixture("openai/openai-text.json")));
    gateway = Gateway.builder(vertx)
        .provider("a", upstream.baseUrl())
        .model("m", "a")
        .start();
  }

  @AfterAll
  static void stop() {
    gateway.close();
    upstream.close();
    Sync.await(vertx.close());
  }

  private static HttpResponse<String> get(String url, String token) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url));
    if (token != null) {
      request.header("authorization", "Bearer " + token);
    }
    return gateway.send(request.GET().build());
  }

  @Test
  void healthProbesNeedNoKey() {
    HttpResponse<String> live = get(gateway.url("/health/live"), null);
    HttpResponse<String> ready = get(gateway.url("/health/ready"), null);

    assertThat(live.statusCode()).isEqualTo(200);
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(ready.body()).getString("database")).isEqualTo("up");
  }

  @Test
  void modelListShowsContextLengthAndPricePerToken() {
    HttpResponse<String> response = get(gateway.url("/v1/models"), gateway.key());

    JsonArray data = new JsonObject(response.body()).getJsonArray("data");
    assertThat(data).hasSize(1);
    JsonObject model = data.getJsonObject(0);
    assertThat(model.getString("id")).isEqualTo("m");
    assertThat(model.getLong("context_length")).isEqualTo(131072);
    assertThat(model.getJsonObject("pricing").getString("prompt")).isEqualTo("0.0000015");
    assertThat(model.getJsonObject("pricing").getString("completion")).isEqualTo("0.000002");
  }

  @Test
  void unknownModelIsA404ModelNotFound() {
    int calls = upstream.calls();
    ChatCompletionCreateParams params = ChatCompletionCreateParams.builder()
        .model("no-such-model").addUserMessage("hi").build();

    assertThatThrownBy(() -> gateway.openAi().chat().completions().create(params))
        .isInstanceOfSatisfying(NotFoundException.class, e -> {
          assertThat(e.code()).hasValue("model_not_found");
          assertThat(e.param()).hasValue("model");
        });
    assertThat(upstream.calls()).isEqualTo(calls);
  }

  @Test
  void adminApiListsKeysWithoutSecretsAndShowsUsageRows() {
    String requestId = UUID.randomUUID().toString();
    assertThat(gateway.post("/v1/chat/completions", Chunks.request(false, ""), requestId)
        .statusCode()).isEqualTo(200);
    gateway.awaitUsageRow(requestId);

    HttpResponse<String> keys = get(gateway.url("/admin/v1/accounts/" + gateway.accountId()
        + "/keys"), Gateway.ADMIN_TOKEN);
    assertThat(keys.statusCode()).isEqualTo(200);
    assertThat(keys.body()).doesNotContain(gateway.key());
    JsonObject key = new JsonObject(keys.body()).getJsonArray("data").getJsonObject(0);
    assertThat(gateway.key()).startsWith(key.getString("prefix"));

    HttpResponse<String> usage = get(gateway.url("/admin/v1/usage?account="
        + gateway.accountId() + "&limit=1"), Gateway.ADMIN_TOKEN);
    JsonArray rows = new JsonObject(usage.body()).getJsonArray("data");
    assertThat(rows).hasSize(1);
    assertThat(rows.getJsonObject(0).getString("request_id")).isEqualTo(requestId);
    assertThat(rows.getJsonObject(0).getLong("cost_micros")).isGreaterThan(0);

    HttpResponse<String> badLimit = get(gateway.url("/admin/v1/usage?account="
        + gateway.accountId() + "&limit=0"), Gateway.ADMIN_TOKEN);
    assertThat(badLimit.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(badLimit.body()).getJsonObject("error").getString("param"))
        .isEqualTo("limit");
  }

  @Test
  void sampleConfigurationStartsWithoutProviderKeys() {
    JsonObject doc = Sync.await(io.flopex.MainAccess.read(vertx, Path.of("conf/flopex.yaml")));
    FlopexConfig config = new ConfigLoader(Map.<String, String>of()::get).load(doc);

    assertThat(config.providers()).isEmpty();
    assertThat(config.models()).isEmpty();
    assertThat(config.server().port()).isEqualTo(8080);

    FlopexConfig withGroq = new ConfigLoader(Map.of("GROQ_API_KEY", "gsk-test")::get).load(doc);
    assertThat(withGroq.providers()).extracting(p -> p.id()).containsExactly("groq");
    assertThat(withGroq.models()).extracting(m -> m.id())
        .containsExactly("meta-llama/llama-3.3-70b-instruct");
    assertThat(withGroq.models().get(0).endpoints().get(0).pricing().promptPerMillion())
        .isEqualTo(590_000);
  }

  @Test
  void aGeneratedAdminTokenIsReadableByItsOwnerOnlyAndNeverLogged() throws Exception {
    Path dataDir = Files.createDirectories(tempDir.resolve("token"));
    JsonObject doc = new JsonObject()
        .put("server", new JsonObject().put("port", 0).put("instances", 1))
        .put("dataDir", dataDir.toString())
        .put("database", new JsonObject().put("url",
            io.flopex.testing.TestPostgres.newDatabaseUrl()));
    FlopexConfig config = new ConfigLoader(Map.<String, String>of()::get).load(doc);
    Vertx vertx = Vertx.vertx();
    try (io.flopex.testing.LogCapture logs = io.flopex.testing.LogCapture.debug()) {
      Flopex node = Sync.await(Flopex.start(vertx, config, Clock.systemUTC()));
      try {
        Path file = dataDir.resolve("admin-token");
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(
            Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        String token = Files.readString(file).trim();
        assertThat(token).hasSizeGreaterThanOrEqualTo(32);
        assertThat(logs.text()).contains("Admin token: generated").doesNotContain(token);
        HttpResponse<String> admin = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + node.port() + "/admin/v1/endpoints"))
            .header("authorization", "Bearer " + token).GET().build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(admin.statusCode()).isEqualTo(200);
      } finally {
        Sync.await(node.close());
      }
    } finally {
      Sync.await(vertx.close());
    }
  }

  @Test
  void embeddedDatabaseKeepsItsDataAcrossRestarts() throws Exception {
    Path dataDir = tempDir.resolve("embedded");
    JsonObject doc = new JsonObject()
        .put("server", new JsonObject().put("port", 0).put("instances", 1))
        .put("dataDir", dataDir.toString());
    FlopexConfig config = new ConfigLoader(
        Map.of("FLOPEX_ADMIN_TOKEN", Gateway.ADMIN_TOKEN)::get).load(doc);
    HttpClient http = HttpClient.newHttpClient();

    Vertx first = Vertx.vertx();
    Flopex node = Sync.await(Flopex.start(first, config, Clock.systemUTC()));
    HttpResponse<String> created = http.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + node.port() + "/admin/v1/accounts"))
        .header("authorization", "Bearer " + Gateway.ADMIN_TOKEN)
        .POST(HttpRequest.BodyPublishers.ofString("{\"email\":\"keep@example.com\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    String account = new JsonObject(created.body()).getString("id");
    Sync.await(node.close().compose(v -> first.close()));

    Vertx second = Vertx.vertx();
    Flopex restarted = Sync.await(Flopex.start(second, config, Clock.systemUTC()));
    try {
      HttpResponse<String> keys = http.send(HttpRequest.newBuilder(URI.create(
              "http://127.0.0.1:" + restarted.port() + "/admin/v1/accounts/" + account + "/keys"))
          .header("authorization", "Bearer " + Gateway.ADMIN_TOKEN).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(keys.statusCode()).isEqualTo(200);
      String email = Sync.await(restarted.pool().query("SELECT email FROM accounts").execute())
          .iterator().next().getString(0);
      assertThat(email).isEqualTo("keep@example.com");
    } finally {
      Sync.await(restarted.close().compose(v -> second.close()));
    }
  }

  @Test
  void embeddedDatabaseLeftRunningByAKilledNodeIsTakenOver() throws Exception {
    Path dataDir = Files.createDirectories(tempDir.resolve("orphan"));
    int port = FakeUpstream.refusedPort();
    ProcessBuilder builder = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "io.flopex.Main")
        .redirectErrorStream(true)
        .redirectOutput(dataDir.resolve("node.log").toFile());
    builder.environment().put("FLOPEX_DATA_DIR", dataDir.toString());
    builder.environment().put("FLOPEX_PORT", Integer.toString(port));
    builder.environment().put("FLOPEX_ADMIN_TOKEN", Gateway.ADMIN_TOKEN);
    Process node = builder.start();
    HttpClient http = HttpClient.newHttpClient();
    HttpRequest ready = HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + port + "/health/ready")).GET().build();
    try {
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60))
          .ignoreExceptions()
          .until(() -> http.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode()
              == 200);
    } finally {
      // SIGKILL: the node gets no chance to stop its PostgreSQL.
      node.destroyForcibly().waitFor();
    }

    JsonObject doc = new JsonObject()
        .put("server", new JsonObject().put("port", 0).put("instances", 1))
        .put("dataDir", dataDir.toString());
    FlopexConfig config = new ConfigLoader(
        Map.of("FLOPEX_ADMIN_TOKEN", Gateway.ADMIN_TOKEN)::get).load(doc);
    Vertx vertx = Vertx.vertx();
    Flopex restarted = Sync.await(Flopex.start(vertx, config, Clock.systemUTC()));
    try {
      assertThat(Sync.await(restarted.pool().query("SELECT count(*) FROM accounts").execute())
          .iterator().next().getLong(0)).isZero();
    } finally {
      Sync.await(restarted.close().compose(v -> vertx.close()));
    }
  }
}
