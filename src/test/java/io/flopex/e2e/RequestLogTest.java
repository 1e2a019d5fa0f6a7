package io.flopex.e2e;

import static io.flopex.testing.FakeUpstream.json;
import static io.flopex.testing.FakeUpstream.sse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.flopex.testing.Chunks;
import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.LogCapture;
import io.flopex.testing.SseClient;
import io.flopex.testing.Sync;
import io.vertx.core.Vertx;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One structured line per request on {@code io.flopex.request}, with the same fields whatever
 * the route: request id, key id, model, provider, status and latency.
 */
class RequestLogTest {

  private static final String LOGGER = "io.flopex.request";

  private Vertx vertx;
  private FakeUpstream upstream;
  private LogCapture logs;
  private Gateway gateway;
  private String keyId;

  @BeforeEach
  void start() {
    logs = LogCapture.debug();
    vertx = Vertx.vertx();
    upstream = FakeUpstream.start(vertx);
    gateway = Gateway.builder(vertx).provider("p", upstream.baseUrl()).model("m", "p").start();
    keyId = gateway.sql("SELECT id FROM api_keys").get(0).getUUID(0).toString();
  }

  @AfterEach
  void stop() {
    gateway.close();
    upstream.close();
    Sync.await(vertx.close());
    logs.close();
  }

  private static Map<String, String> fields(ILoggingEvent event) {
    Map<String, String> fields = new LinkedHashMap<>();
    if (event.getKeyValuePairs() != null) {
      event.getKeyValuePairs().forEach(pair -> fields.put(pair.key, String.valueOf(pair.value)));
    }
    return fields;
  }

  /** The request lines of one request id; awaited, since a line is written as a request ends. */
  private List<ILoggingEvent> linesOf(String requestId) {
    await().atMost(Duration.ofSeconds(10)).until(() -> !lines(requestId).isEmpty());
    return lines(requestId);
  }

  private List<ILoggingEvent> lines(String requestId) {
    return logs.events(LOGGER).stream()
        .filter(e -> requestId.equals(fields(e).get("request_id"))).toList();
  }

  private static String completion(long prompt, long completion) {
    return new io.vertx.core.json.JsonObject().put("id", "chatcmpl-1")
        .put("object", "chat.completion").put("created", 1770000000).put("model", "up")
        .put("choices", new io.vertx.core.json.JsonArray().add(new io.vertx.core.json.JsonObject()
            .put("index", 0).put("finish_reason", "stop").put("message",
                new io.vertx.core.json.JsonObject().put("role", "assistant")
                    .put("content", "hello"))))
        .put("usage", new io.vertx.core.json.JsonObject().put("prompt_tokens", prompt)
            .put("completion_tokens", completion).put("total_tokens", prompt + completion))
        .encode();
  }

  @Test
  void aChatRequestHasOneLineWithItsRoutingAndUsage() {
    upstream.then(json(200, completion(12, 3)));
    String id = UUID.randomUUID().toString();
    HttpResponse<String> response = gateway.post("/v1/chat/completions",
        Chunks.request(false, ""), id);
    assertThat(response.statusCode()).isEqualTo(200);

    List<ILoggingEvent> lines = linesOf(id);
    assertThat(lines).hasSize(1);
    assertThat(lines.get(0).getLevel()).isEqualTo(Level.INFO);
    Map<String, String> fields = fields(lines.get(0));
    assertThat(fields).containsEntry("method", "POST")
        .containsEntry("path", "/v1/chat/completions")
        .containsEntry("status", "200")
        .containsEntry("key_id", keyId)
        .containsEntry("model", "m")
        .containsEntry("provider", "p")
        .containsEntry("outcome", "success")
        .containsEntry("attempts", "1")
        .containsEntry("streamed", "false")
        .containsEntry("prompt_tokens", "12")
        .containsEntry("completion_tokens", "3")
        .containsKeys("latency_ms", "ttfb_ms", "cost_micros");
    assertThat(lines.get(0).getFormattedMessage()).startsWith("POST /v1/chat/completions 200 ");
  }

  @Test
  void aStreamAndAFailedRequestHaveTheSameFields() {
    upstream.then(sse(List.of(Chunks.content("a"), Chunks.finish("stop"), Chunks.usage(5, 1))));
    String streamed = UUID.randomUUID().toString();
    try (SseClient client = SseClient.open(gateway, Chunks.request(true, ""), streamed)) {
      client.rest();
    }
    upstream.then(json(500, FakeUpstream.openAiError("down", "server_error", null)));
    String failed = UUID.randomUUID().toString();
    assertThat(gateway.post("/v1/chat/completions", Chunks.request(false, ""), failed)
        .statusCode()).isEqualTo(502);

    assertThat(linesOf(streamed)).singleElement().satisfies(line -> assertThat(fields(line))
        .containsEntry("streamed", "true").containsEntry("status", "200")
        .containsEntry("provider", "p").containsEntry("key_id", keyId));
    assertThat(linesOf(failed)).singleElement().satisfies(line -> assertThat(fields(line))
        .containsEntry("status", "502").containsEntry("provider", "-")
        .containsEntry("model", "m").containsKeys("outcome", "latency_ms"));
  }

  @Test
  void everyOtherRouteHasALineAndHealthProbesOnlyAtDebug() {
    String refused = UUID.randomUUID().toString();
    HttpResponse<String> unauthenticated = gateway.send(HttpRequest.newBuilder(URI.create(
        gateway.url("/v1/models?secret=query-not-logged"))).header("x-request-id", refused)
        .GET().build());
    assertThat(unauthenticated.statusCode()).isEqualTo(401);
    String listed = UUID.randomUUID().toString();
    gateway.send(HttpRequest.newBuilder(URI.create(gateway.url("/v1/models")))
        .header("authorization", "Bearer " + gateway.key()).header("x-request-id", listed)
        .GET().build());
    String probe = UUID.randomUUID().toString();
    gateway.send(HttpRequest.newBuilder(URI.create(gateway.url("/health/ready")))
        .header("x-request-id", probe).GET().build());

    assertThat(fields(linesOf(refused).get(0))).containsEntry("status", "401")
        .containsEntry("path", "/v1/models").doesNotContainKey("key_id");
    assertThat(logs.text()).doesNotContain("query-not-logged");
    assertThat(fields(linesOf(listed).get(0))).containsEntry("status", "200")
        .containsEntry("key_id", keyId).containsEntry("method", "GET");
    assertThat(linesOf(probe)).singleElement()
        .satisfies(line -> assertThat(line.getLevel()).isEqualTo(Level.DEBUG));
  }

  /** The JSON format, as the packaged configuration writes it, from a real process. */
  @Test
  void theJsonFormatPutsEachFieldInTheLineAndAnUnknownFormatIsRefused() throws Exception {
    Path dir = Files.createTempDirectory("flopex-log-format");
    try {
      Path config = Files.writeString(dir.resolve("flopex.yaml"), "server: { port: 0 }\n");
      Process refused = process(dir, config, "yaml");
      assertThat(refused.waitFor()).isEqualTo(2);
      assertThat(Files.readString(dir.resolve("node.log")))
          .contains("FLOPEX_LOG_FORMAT must be 'text' or 'json'");

      // An invalid configuration makes the node log one error and stop: enough to see the format.
      Files.writeString(config, "server: { port: 0 }\nunknownKey: 1\n");
      Process node = process(dir, config, "json");
      assertThat(node.waitFor()).isEqualTo(2);
      List<String> lines = Files.readAllLines(dir.resolve("node.log"));
      assertThat(lines).isNotEmpty();
      for (String line : lines) {
        io.vertx.core.json.JsonObject json = new io.vertx.core.json.JsonObject(line);
        assertThat(json.getString("level")).isNotNull();
        assertThat(json.getString("@timestamp")).isNotNull();
      }
      assertThat(lines).anySatisfy(line -> assertThat(new io.vertx.core.json.JsonObject(line)
          .getString("message")).contains("unknownKey"));
    } finally {
      io.flopex.testing.TempDirs.delete(dir);
    }
  }

  private static Process process(Path dir, Path config, String format) throws Exception {
    ProcessBuilder builder = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        // The packaged configuration, not the tests' own.
        "-Dlogback.configurationFile=" + Path.of(RequestLogTest.class.getResource("/logback.xml")
            .toURI()),
        "-cp", System.getProperty("java.class.path"), "io.flopex.Main", "--config",
        config.toString())
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve("node.log").toFile());
    builder.environment().put("FLOPEX_LOG_FORMAT", format);
    builder.environment().put("FLOPEX_DATA_DIR", dir.resolve("data").toString());
    return builder.start();
  }
}
