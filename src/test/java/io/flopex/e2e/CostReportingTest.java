package io.flopex.e2e;

import static io.flopex.testing.FakeUpstream.sse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flopex.testing.Chunks;
import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.SseClient;
import io.flopex.testing.Sync;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The caller learns what each request cost: {@code usage.cost} in answers and in the final
 * stream chunk, and {@code GET /v1/generation} afterwards; a wallet is charged the same amount,
 * also for a stream the client left (B29).
 */
class CostReportingTest {

  private Vertx vertx;
  private FakeUpstream upstream;
  private Gateway gateway;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    upstream = FakeUpstream.start(vertx);
    gateway = Gateway.builder(vertx)
        .provider("p", upstream.baseUrl())
        .model("m", "p")
        .billing()
        .start();
    gateway.adminPost("/admin/v1/accounts/" + gateway.accountId() + "/credits",
        new JsonObject().put("amount_micros", 10_000_000).put("reason", "test"));
  }

  @AfterEach
  void stop() {
    gateway.close();
    upstream.close();
    Sync.await(vertx.close());
  }

  private long ledgerCharges() {
    return -gateway.sql("SELECT coalesce(sum(amount_micros), 0) FROM ledger WHERE kind ="
        + " 'charge'").get(0).getLong(0);
  }

  @Test
  void anAnswerCarriesItsCostAndTheGenerationRouteAgreesWithTheWallet() {
    upstream.always(FakeUpstream.json(200, FakeUpstream.fixture("openai/openai-text.json")));
    String requestId = UUID.randomUUID().toString();

    HttpResponse<String> response = gateway.post("/v1/chat/completions",
        Chunks.request(false, ""), requestId);

    JsonObject usage = new JsonObject(response.body()).getJsonObject("usage");
    long micros = usage.getLong("cost_micros");
    assertThat(micros).isPositive();
    assertThat(new BigDecimal(usage.getValue("cost").toString()))
        .isEqualByComparingTo(BigDecimal.valueOf(micros, 6));
    gateway.awaitUsageRow(requestId);
    HttpResponse<String> generation = gateway.send(HttpRequest.newBuilder(URI.create(
            gateway.url("/v1/generation?id=" + requestId)))
        .header("authorization", "Bearer " + gateway.key()).GET().build());
    assertThat(generation.statusCode()).isEqualTo(200);
    JsonObject data = new JsonObject(generation.body()).getJsonObject("data");
    assertThat(data.getLong("cost_micros")).isEqualTo(micros);
    assertThat(data.getString("provider")).isEqualTo("p");
    assertThat(data.getJsonArray("attempts")).hasSize(1);
    assertThat(data.containsKey("account_id")).isFalse();
    await().atMost(Duration.ofSeconds(5)).until(() -> ledgerCharges() == micros);
  }

  @Test
  void theGenerationOfAnotherAccountIsNotFound() {
    upstream.always(FakeUpstream.json(200, FakeUpstream.fixture("openai/openai-text.json")));
    String requestId = UUID.randomUUID().toString();
    gateway.post("/v1/chat/completions", Chunks.request(false, ""), requestId);
    gateway.awaitUsageRow(requestId);
    JsonObject other = gateway.adminPost("/admin/v1/accounts",
        new JsonObject().put("email", "other@example.com"));
    String otherKey = gateway.adminPost("/admin/v1/accounts/" + other.getString("id")
        + "/keys", new JsonObject().put("name", "x")).getString("key");

    HttpResponse<String> response = gateway.send(HttpRequest.newBuilder(URI.create(
            gateway.url("/v1/generation?id=" + requestId)))
        .header("authorization", "Bearer " + otherKey).GET().build());

    assertThat(response.statusCode()).isEqualTo(404);
  }

  @Test
  void theFinalStreamChunkCarriesTheCost() {
    upstream.always(sse(List.of(Chunks.content("hello"), Chunks.content(" world")), 0, true));

    try (SseClient stream = SseClient.open(gateway,
        Chunks.request(true, "\"stream_options\":{\"include_usage\":true}"))) {
      List<String> events = new ArrayList<>();
      String event;
      while ((event = stream.next()) != null) {
        events.add(event);
      }
      JsonObject last = events.stream().filter(e -> e.startsWith("{"))
          .map(JsonObject::new).reduce((a, b) -> b).orElseThrow();
      assertThat(last.getJsonArray("choices")).isEqualTo(new JsonArray());
      assertThat(last.getJsonObject("usage").getLong("cost_micros")).isPositive();
      long micros = last.getJsonObject("usage").getLong("cost_micros");
      await().atMost(Duration.ofSeconds(5)).until(() -> ledgerCharges() == micros);
    }
  }

  @Test
  void b29_aClientThatLeavesMidStreamIsChargedForWhatWasDeliveredAndFlaggedAsAnEstimate()
      throws Exception {
    List<String> chunks = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      chunks.add(Chunks.content("token" + i + " "));
    }
    upstream.always(sse(chunks, 20, true));
    String requestId = UUID.randomUUID().toString();
    String body = Chunks.request(true, "");
    try (Socket socket = new Socket("127.0.0.1", gateway.port())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(("POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\n"
          + "authorization: Bearer " + gateway.key() + "\r\ncontent-type: application/json\r\n"
          + "x-request-id: " + requestId + "\r\ncontent-length: "
          + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body)
          .getBytes(StandardCharsets.UTF_8));
      out.flush();
      BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(),
          StandardCharsets.UTF_8));
      int events = 0;
      String line;
      while (events < 20 && (line = in.readLine()) != null) {
        if (line.startsWith("data: ")) {
          events++;
        }
      }
    }

    Row row = gateway.awaitUsageRow(requestId);
    assertThat(row.getString("outcome")).isEqualTo("client_disconnected");
    assertThat(row.getBoolean("tokens_estimated")).isTrue();
    assertThat(row.getLong("completion_tokens")).isBetween(20L, 200L);
    long cost = row.getLong("cost_micros");
    assertThat(cost).isPositive();
    await().atMost(Duration.ofSeconds(5)).until(() -> ledgerCharges() == cost);
    assertThat(gateway.sql("SELECT count(*) FROM ledger WHERE kind = 'charge'").get(0)
        .getLong(0)).isEqualTo(1);
    assertThat(gateway.adminGet("/admin/v1/accounts/" + gateway.accountId())
        .getLong("reserved_micros")).isZero();
  }
}
