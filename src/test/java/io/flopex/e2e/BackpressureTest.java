package io.flopex.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flopex.testing.Chunks;
import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.SseClient;
import io.flopex.testing.Sync;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A client that reads slowly slows the provider down instead of filling the gateway's heap. */
class BackpressureTest {

  @Test
  void slowReaderPushesBackOnTheUpstream() {
    Vertx vertx = Vertx.vertx();
    FakeUpstream upstream = FakeUpstream.start(vertx);
    String piece = "p".repeat(8 * 1024);
    int total = 4_000;
    AtomicBoolean upstreamBlocked = new AtomicBoolean();
    AtomicInteger written = new AtomicInteger();
    upstream.always((req, resp, v) -> {
      resp.setStatusCode(200).setChunked(true).putHeader("content-type", "text/event-stream");
      pump(resp, piece, total, written, upstreamBlocked);
    });
    JsonObject timeouts = new JsonObject().put("connectMs", 1000).put("firstByteMs", 5000)
        .put("idleMs", 3000).put("responseMs", 10000);
    try (Gateway gateway = Gateway.builder(vertx)
        .provider("a", "openai-compatible", upstream.baseUrl(), "sk-a", timeouts)
        .model("m", "a")
        .start();
        SseClient client = SseClient.open(gateway, Chunks.request(true, ""))) {
      assertThat(client.next()).contains(piece);

      // With the client not reading, the provider's socket must fill up and stay blocked.
      await().atMost(Duration.ofSeconds(10)).untilTrue(upstreamBlocked);
      await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(3))
          .until(() -> written.get() < total);

      int received = 1;
      String event;
      while ((event = client.next()) != null && !event.equals("[DONE]")) {
        if (event.contains(piece)) {
          received++;
        }
      }
      assertThat(event).isEqualTo("[DONE]");
      assertThat(received).isEqualTo(total);
    } finally {
      upstream.close();
      Sync.await(vertx.close());
    }
  }

  @Test
  void clientThatStopsReadingIsCutOffAfterTheIdleTimeout() {
    Vertx vertx = Vertx.vertx();
    FakeUpstream upstream = FakeUpstream.start(vertx);
    String piece = "q".repeat(8 * 1024);
    upstream.always((req, resp, v) -> {
      resp.setStatusCode(200).setChunked(true).putHeader("content-type", "text/event-stream");
      pump(resp, piece, 100_000, new AtomicInteger(), new AtomicBoolean());
    });
    JsonObject timeouts = new JsonObject().put("connectMs", 1000).put("firstByteMs", 5000)
        .put("idleMs", 1000).put("responseMs", 10000);
    String requestId = java.util.UUID.randomUUID().toString();
    try (Gateway gateway = Gateway.builder(vertx)
        .provider("a", "openai-compatible", upstream.baseUrl(), "sk-a", timeouts)
        .model("m", "a")
        .start();
        SseClient client = SseClient.open(gateway, Chunks.request(true, ""), requestId)) {
      assertThat(client.next()).contains(piece);

      await().atMost(Duration.ofSeconds(10)).until(() -> !upstream.closedAtNanos().isEmpty());
      assertThat(gateway.awaitUsageRow(requestId).getString("outcome"))
          .isEqualTo("client_too_slow");
    } finally {
      upstream.close();
      Sync.await(vertx.close());
    }
  }

  /** Writes the chunks as fast as the connection takes them, noting when it pushes back. */
  private static void pump(HttpServerResponse resp, String piece, int total,
      AtomicInteger written, AtomicBoolean blocked) {
    while (written.get() < total) {
      resp.write("data: " + Chunks.content(piece) + "\n\n");
      written.incrementAndGet();
      if (resp.writeQueueFull()) {
        blocked.set(true);
        resp.drainHandler(v -> pump(resp, piece, total, written, blocked));
        return;
      }
    }
    resp.end("data: " + Chunks.finish("stop") + "\n\ndata: [DONE]\n\n");
  }
}
