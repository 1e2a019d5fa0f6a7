package io.flopex.e2e;

import static io.flopex.testing.FakeUpstream.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.Sync;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * When usage rows are written slower than requests end, a node stops taking new requests at
 * {@code usage.maxPending} waiting rows rather than serve requests it cannot meter or drop rows.
 */
class UsageBacklogTest {

  private static final String CHAT_OK = new JsonObject().put("id", "c")
      .put("object", "chat.completion").put("created", 1).put("model", "up")
      .put("choices", new JsonArray().add(new JsonObject().put("index", 0)
          .put("message", new JsonObject().put("role", "assistant").put("content", "ok"))
          .put("finish_reason", "stop")))
      .put("usage", new JsonObject().put("prompt_tokens", 3).put("completion_tokens", 1)
          .put("total_tokens", 4)).encode();
  private static final String BODY =
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

  private Vertx vertx;
  private FakeUpstream upstream;
  private Gateway gateway;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    upstream = FakeUpstream.start(vertx);
    upstream.always(json(200, CHAT_OK));
    gateway = Gateway.builder(vertx).provider("p", upstream.baseUrl()).model("m", "p")
        .usage("maxPending", 100).usage("batchSize", 10).start();
  }

  @AfterEach
  void stop() {
    gateway.close();
    upstream.close();
    Sync.await(vertx.close());
  }

  @Test
  void aNodeRefusesNewRequestsWhileItsUsageRowsWaitAndLosesNone() {
    assertThat(gateway.post("/v1/chat/completions", BODY).statusCode()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(5)).until(() -> gateway.usageRowCount() == 1);

    // Another session holds the usage table: the node's writes wait behind it.
    SqlConnection other = Sync.await(gateway.flopex().pool().getConnection());
    Transaction tx = Sync.await(other.begin());
    Sync.await(other.query("LOCK TABLE usage_events IN EXCLUSIVE MODE").execute());
    try {
      for (int i = 0; i < 100; i++) {
        assertThat(gateway.post("/v1/chat/completions", BODY).statusCode()).isEqualTo(200);
      }
      await().atMost(Duration.ofSeconds(5)).until(() -> metric("flopex_usage_backlog") == 100);
      int calls = upstream.calls();

      HttpResponse<String> refused = gateway.post("/v1/chat/completions", BODY);

      assertThat(refused.statusCode()).isEqualTo(503);
      assertThat(refused.headers().firstValue("retry-after")).hasValue("1");
      JsonObject error = new JsonObject(refused.body()).getJsonObject("error");
      assertThat(error.getString("code")).isEqualTo("metering_unavailable");
      assertThat(error.getString("type")).isEqualTo("server_error");
      assertThat(upstream.calls()).isEqualTo(calls);
      assertThat(metric("flopex_usage_backlog_refusals_total")).isEqualTo(1);
    } finally {
      Sync.await(tx.rollback());
      other.close();
    }

    // Every waiting row is written, none lost, and the node takes requests again.
    await().atMost(Duration.ofSeconds(10)).until(() -> gateway.usageRowCount() == 101);
    await().atMost(Duration.ofSeconds(5)).until(() -> metric("flopex_usage_backlog") == 0);
    assertThat(gateway.post("/v1/chat/completions", BODY).statusCode()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(5)).until(() -> gateway.usageRowCount() == 102);
    assertThat(metric("flopex_usage_rows_dropped_total")).isZero();
  }

  private double metric(String series) {
    String body = gateway.send(HttpRequest.newBuilder(URI.create(gateway.url("/metrics")))
        .GET().build()).body();
    return body.lines().filter(line -> line.startsWith(series + " "))
        .mapToDouble(line -> Double.parseDouble(line.substring(series.length() + 1)))
        .findFirst().orElse(-1);
  }
}
