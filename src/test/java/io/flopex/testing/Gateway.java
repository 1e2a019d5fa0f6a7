package io.flopex.testing;

import static org.awaitility.Awaitility.await;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import io.flopex.Flopex;
import io.flopex.config.ConfigLoader;
import io.flopex.config.FlopexConfig;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A real Flopex node for a test: its own database on the shared test PostgreSQL, real HTTP on a
 * free loopback port, an account and an inference key created through the admin API.
 */
public final class Gateway implements AutoCloseable {

  public static final String ADMIN_TOKEN = "test-admin-token-0123456789";

  private final Flopex flopex;
  private final Path dataDir;
  private final HttpClient http = HttpClient.newHttpClient();
  private final String key;
  private final String accountId;

  private Gateway(Flopex flopex, Path dataDir) {
    this.flopex = flopex;
    this.dataDir = dataDir;
    JsonObject account = adminPost("/admin/v1/accounts", new JsonObject().put("email",
        "test@example.com"));
    this.accountId = account.getString("id");
    this.key = adminPost("/admin/v1/accounts/" + accountId + "/keys",
        new JsonObject().put("name", "test")).getString("key");
  }

  public static Builder builder(Vertx vertx) {
    return new Builder(vertx);
  }

  /** Assembles the YAML-shaped configuration document, then loads it as Flopex would. */
  public static final class Builder {

    private final Vertx vertx;
    private final JsonObject doc = new JsonObject();
    private final JsonArray providers = new JsonArray();
    private final JsonArray models = new JsonArray();
    private final Map<String, String> env = new HashMap<>();
    private Clock clock = Clock.systemUTC();
    private String databaseUrl;

    private Builder(Vertx vertx) {
      this.vertx = vertx;
      doc.put("server", new JsonObject().put("port", 0).put("instances", 2)
          .put("shutdownGraceMs", 1000));
      doc.put("usage", new JsonObject().put("flushIntervalMs", 20));
      env.put("FLOPEX_ADMIN_TOKEN", ADMIN_TOKEN);
    }

    public Builder server(String key, Object value) {
      doc.getJsonObject("server").put(key, value);
      return this;
    }

    public Builder usage(String key, Object value) {
      doc.getJsonObject("usage").put(key, value);
      return this;
    }

    public Builder clock(Clock clock) {
      this.clock = clock;
      return this;
    }

    public Builder retention(int usageDays) {
      doc.put("retention", new JsonObject().put("usageDays", usageDays));
      return this;
    }

    public Builder env(String name, String value) {
      env.put(name, value);
      return this;
    }

    /** An OpenAI-compatible provider with short timeouts suited to tests. */
    public Builder provider(String id, String baseUrl) {
      return provider(id, "openai-compatible", baseUrl, "sk-upstream-" + id,
          new JsonObject().put("connectMs", 1000).put("firstByteMs", 5000).put("idleMs", 5000)
              .put("responseMs", 10000));
    }

    public Builder provider(String id, String kind, String baseUrl, String apiKey,
        JsonObject timeouts) {
      providers.add(new JsonObject().put("id", id).put("kind", kind).put("baseUrl", baseUrl)
          .put("apiKey", apiKey).put("timeouts", timeouts));
      return this;
    }

    /** Sets one field of an already added provider. */
    public Builder providerSetting(String id, String key, Object value) {
      providers.stream().map(JsonObject.class::cast)
          .filter(p -> id.equals(p.getString("id"))).findFirst().orElseThrow()
          .put(key, value);
      return this;
    }

    /** A model served by the given providers in order, each under the name {@code up-<id>}. */
    public Builder model(String id, String... providerIds) {
      return model(id, new JsonObject().put("prompt", 1.5).put("completion", 2.0), providerIds);
    }

    /** Like {@link #model(String, String...)}, with these prices on every endpoint. */
    public Builder model(String id, JsonObject pricing, String... providerIds) {
      JsonArray endpoints = new JsonArray();
      for (String p : providerIds) {
        endpoints.add(new JsonObject().put("provider", p).put("upstreamModel", "up-" + p)
            .put("pricing", pricing.copy()));
      }
      models.add(new JsonObject().put("id", id).put("contextLength", 131072)
          .put("endpoints", endpoints));
      return this;
    }

    /** Adds a model exactly as written in the configuration. */
    public Builder model(JsonObject model) {
      models.add(model);
      return this;
    }

    /** Sets the context window of a model declared earlier. */
    public Builder window(String modelId, long contextLength) {
      for (Object m : models) {
        JsonObject model = (JsonObject) m;
        if (model.getString("id").equals(modelId)) {
          model.put("contextLength", contextLength);
        }
      }
      return this;
    }

    /** Sets the default strategy of a model declared earlier. */
    public Builder strategy(String modelId, String strategy) {
      for (Object m : models) {
        JsonObject model = (JsonObject) m;
        if (model.getString("id").equals(modelId)) {
          model.put("strategy", strategy);
        }
      }
      return this;
    }

    /** Sets a key of the endpoint of a model declared earlier that a provider serves. */
    public Builder endpoint(String modelId, String providerId, String key, Object value) {
      for (Object m : models) {
        JsonObject model = (JsonObject) m;
        if (model.getString("id").equals(modelId)) {
          for (Object e : model.getJsonArray("endpoints")) {
            JsonObject endpoint = (JsonObject) e;
            if (endpoint.getString("provider").equals(providerId)) {
              endpoint.put(key, value);
            }
          }
        }
      }
      return this;
    }

    /** Uses this database instead of a new one, as the nodes of one cluster do. */
    public Builder database(String url) {
      this.databaseUrl = url;
      return this;
    }

    public Builder routing(int maxAttempts) {
      routingSection().put("maxAttempts", maxAttempts);
      return this;
    }

    /** Circuit breakers that open after {@code failures} in a row and half-open after resetMs. */
    public Builder breaker(int failures, long resetMs) {
      routingSection().put("breaker", new JsonObject().put("failures", failures)
          .put("resetMs", resetMs));
      return this;
    }

    /** Sets a key of the top-level {@code cluster} section. */
    public Builder cluster(String key, Object value) {
      JsonObject cluster = doc.getJsonObject("cluster");
      if (cluster == null) {
        cluster = new JsonObject();
        doc.put("cluster", cluster);
      }
      cluster.put(key, value);
      return this;
    }

    /** Turns prepaid wallets on: every request reserves its worst case first. */
    public Builder billing() {
      doc.put("billing", new JsonObject().put("enabled", true));
      return this;
    }

    /** Sets a key of the top-level {@code auth} section. */
    public Builder auth(String key, Object value) {
      JsonObject auth = doc.getJsonObject("auth");
      if (auth == null) {
        auth = new JsonObject();
        doc.put("auth", auth);
      }
      auth.put(key, value);
      return this;
    }

    /** Sets a key of the top-level {@code stripe} section. */
    public Builder stripe(String key, Object value) {
      JsonObject stripe = doc.getJsonObject("stripe");
      if (stripe == null) {
        stripe = new JsonObject();
        doc.put("stripe", stripe);
      }
      stripe.put(key, value);
      return this;
    }

    /** Sets a key of the top-level {@code bridge} section. */
    public Builder bridge(String key, Object value) {
      JsonObject bridge = doc.getJsonObject("bridge");
      if (bridge == null) {
        bridge = new JsonObject();
        doc.put("bridge", bridge);
      }
      bridge.put(key, value);
      return this;
    }

    /** Sets a key of the top-level {@code metrics} section. */
    public Builder metrics(String key, Object value) {
      JsonObject metrics = doc.getJsonObject("metrics");
      if (metrics == null) {
        metrics = new JsonObject();
        doc.put("metrics", metrics);
      }
      metrics.put(key, value);
      return this;
    }

    private JsonObject routingSection() {
      JsonObject routing = doc.getJsonObject("routing");
      if (routing == null) {
        routing = new JsonObject();
        doc.put("routing", routing);
      }
      return routing;
    }

    public FlopexConfig config() {
      try {
        Path dataDir = Files.createTempDirectory("flopex-test-data");
        doc.put("dataDir", dataDir.toString());
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      doc.put("database", new JsonObject().put("url",
          databaseUrl != null ? databaseUrl : TestPostgres.newDatabaseUrl()));
      doc.put("providers", providers).put("models", models);
      return new ConfigLoader(env::get).load(doc);
    }

    public Gateway start() {
      FlopexConfig config = config();
      Flopex flopex = Sync.await(Flopex.start(vertx, config, clock));
      return new Gateway(flopex, config.dataDir());
    }
  }

  public Flopex flopex() {
    return flopex;
  }

  public int port() {
    return flopex.port();
  }

  public String url(String path) {
    return "http://127.0.0.1:" + port() + path;
  }

  public String key() {
    return key;
  }

  public String accountId() {
    return accountId;
  }

  /** A token of the account API for the test account, bought with a new management key. */
  public String accountToken() {
    String managementKey = adminPost("/admin/v1/accounts/" + accountId + "/management-keys",
        new JsonObject()).getString("key");
    HttpResponse<String> issued = send(HttpRequest.newBuilder(URI.create(url("/v1/auth/token")))
        .header("authorization", "Bearer " + managementKey)
        .POST(HttpRequest.BodyPublishers.noBody()).build());
    return new JsonObject(issued.body()).getString("token");
  }

  /** The official OpenAI Java SDK pointed at this gateway, with its own retries off. */
  public OpenAIClient openAi() {
    return OpenAIOkHttpClient.builder()
        .baseUrl(url("/v1"))
        .apiKey(key)
        .maxRetries(0)
        .timeout(Duration.ofSeconds(30))
        .build();
  }

  public HttpResponse<String> post(String path, String body) {
    return send(HttpRequest.newBuilder(URI.create(url(path)))
        .header("authorization", "Bearer " + key)
        .header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build());
  }

  public HttpResponse<String> send(HttpRequest request) {
    try {
      return http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public JsonObject adminPost(String path, JsonObject body) {
    HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(url(path)))
        .header("authorization", "Bearer " + ADMIN_TOKEN)
        .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build());
    if (response.statusCode() / 100 != 2) {
      throw new IllegalStateException(path + " answered " + response.statusCode() + ": "
          + response.body());
    }
    return new JsonObject(response.body());
  }

  public JsonObject adminGet(String path) {
    HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(url(path)))
        .header("authorization", "Bearer " + ADMIN_TOKEN).GET().build());
    if (response.statusCode() / 100 != 2) {
      throw new IllegalStateException(path + " answered " + response.statusCode() + ": "
          + response.body());
    }
    return new JsonObject(response.body());
  }

  /** Every row of every Flopex table, as text: what a leak check must search. */
  public String databaseDump() {
    StringBuilder dump = new StringBuilder();
    for (Row table : sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")) {
      String name = table.getString(0);
      for (Row row : sql("SELECT row_to_json(t)::text FROM \"" + name + "\" t")) {
        dump.append(name).append(": ").append(row.getString(0)).append('\n');
      }
    }
    return dump.toString();
  }

  /** Runs SQL against the gateway's own database. */
  public List<Row> sql(String query) {
    RowSet<Row> rows = Sync.await(flopex.pool().query(query).execute());
    List<Row> out = new ArrayList<>();
    rows.forEach(out::add);
    return out;
  }

  /** Waits for the usage row of the request sent with this {@code x-request-id}. */
  public Row awaitUsageRow(String requestId) {
    String query = "SELECT * FROM usage_events WHERE request_id = '"
        + requestId.replace("'", "''") + "'";
    await().atMost(Duration.ofSeconds(10)).until(() -> !sql(query).isEmpty());
    List<Row> rows = sql(query);
    if (rows.size() != 1) {
      throw new AssertionError(rows.size() + " usage rows for request " + requestId);
    }
    return rows.get(0);
  }

  public HttpResponse<String> post(String path, String body, String requestId) {
    return send(HttpRequest.newBuilder(URI.create(url(path)))
        .header("authorization", "Bearer " + key)
        .header("content-type", "application/json")
        .header("x-request-id", requestId)
        .POST(HttpRequest.BodyPublishers.ofString(body)).build());
  }

  public long usageRowCount() {
    return sql("SELECT count(*) FROM usage_events").get(0).getLong(0);
  }

  @Override
  public void close() {
    Sync.await(flopex.close());
    TempDirs.delete(dataDir);
  }
}
