package io.flopex.e2e;

import static io.flopex.testing.FakeUpstream.sse;
import static io.flopex.testing.FakeUpstream.stall;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flopex.testing.Chunks;
import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.Sync;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A client that hangs up must not leave an upstream call running, nor go unmetered. */
class ClientDisconnectTest {

  private static Vertx vertx;
  private static FakeUpstream a;
  private static FakeUpstream b;
  private static Gateway gateway;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    a = FakeUpstream.start(vertx);
    b = FakeUpstream.start(vertx);
    JsonObject timeouts = new JsonObject().put("connectMs", 1000).put("firstByteMs", 20_000)
        .put("idleMs", 20_000).put("responseMs", 20_000);
    gateway = Gateway.builder(vertx)
        .provider("a", "openai-compatible", a.baseUrl(), "sk-a", timeouts)
        .provider("b", "openai-compatible", b.baseUrl(), "sk-b", timeouts)
        .model("m", "a", "b")
        .start();
  }

  @AfterAll
  static void stop() {
    gateway.close();
    a.close();
    b.close();
    Sync.await(vertx.close());
  }

  /** Sends a request over a raw socket, so the test decides exactly when the connection ends. */
  private static Socket send(String path, String body, String requestId) throws IOException {
    Socket socket = new Socket("127.0.0.1", gateway.port());
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    OutputStream out = socket.getOutputStream();
    out.write(("POST " + path + " HTTP/1.1\r\nHost: localhost\r\n"
        + "Authorization: Bearer " + gateway.key() + "\r\n"
        + "Content-Type: application/json\r\nx-request-id: " + requestId + "\r\n"
        + "Content-Length: " + bytes.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    out.write(bytes);
    out.flush();
    return socket;
  }

  @ParameterizedTest
  @ValueSource(strings = {"/v1/chat/completions", "/chat/completions"})
  void b05_hangingUpAfterTwoChunksClosesTheUpstreamWithinASecond(String path) throws Exception {
    List<String> chunks = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      chunks.add(Chunks.content("token" + i + " "));
    }
    a.then(sse(chunks, 200, true));
    int closedBefore = a.closedAtNanos().size();
    int bCalls = b.calls();
    String requestId = UUID.randomUUID().toString();

    long hungUpAt;
    try (Socket socket = send(path, Chunks.request(true, ""), requestId)) {
      socket.setSoTimeout(10_000);
      BufferedReader in = new BufferedReader(
          new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      int events = 0;
      String line;
      while (events < 2 && (line = in.readLine()) != null) {
        if (line.startsWith("data: ")) {
          events++;
        }
      }
      assertThat(events).isEqualTo(2);
      hungUpAt = System.nanoTime();
    }

    await().atMost(Duration.ofSeconds(2)).until(() -> a.closedAtNanos().size() > closedBefore);
    long closedAfterMs = (a.closedAtNanos().get(closedBefore) - hungUpAt) / 1_000_000;
    assertThat(closedAfterMs).isLessThan(1_000);
    Row row = gateway.awaitUsageRow(requestId);
    assertThat(row.getString("outcome")).isEqualTo("client_disconnected");
    assertThat(row.getBoolean("tokens_estimated")).isTrue();
    assertThat(row.getLong("completion_tokens")).isGreaterThan(0);
    assertThat(row.getLong("cost_micros")).isGreaterThan(0);
    assertThat(b.calls()).isEqualTo(bCalls);
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void b05_hangingUpBeforeTheFirstByteClosesTheUpstreamWithinASecond(boolean stream)
      throws Exception {
    a.then(stall());
    int callsBefore = a.calls();
    int closedBefore = a.closedAtNanos().size();
    int bCalls = b.calls();
    String requestId = UUID.randomUUID().toString();
    ScheduledExecutorService clock = Executors.newSingleThreadScheduledExecutor();

    long hungUpAt;
    try (Socket socket = send("/v1/chat/completions", Chunks.request(stream, ""), requestId)) {
      await().atMost(Duration.ofSeconds(5)).until(() -> a.calls() > callsBefore);
      // The client gives up while the upstream is still thinking.
      hungUpAt = clock.schedule(() -> {
        socket.close();
        return System.nanoTime();
      }, 1, TimeUnit.SECONDS).get();
    } finally {
      clock.shutdownNow();
    }

    await().atMost(Duration.ofSeconds(2)).until(() -> a.closedAtNanos().size() > closedBefore);
    long closedAfterMs = (a.closedAtNanos().get(closedBefore) - hungUpAt) / 1_000_000;
    assertThat(closedAfterMs).isLessThan(1_000);
    Row row = gateway.awaitUsageRow(requestId);
    assertThat(row.getString("outcome")).isEqualTo("client_disconnected");
    assertThat(row.getLong("cost_micros")).isZero();
    assertThat(b.calls()).isEqualTo(bCalls);
  }
}
