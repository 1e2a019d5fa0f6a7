package io.flopex.e2e;

import static io.flopex.testing.FakeUpstream.fixture;
import static io.flopex.testing.FakeUpstream.json;
import static io.flopex.testing.FakeUpstream.openAiError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flopex.testing.Chunks;
import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.SseClient;
import io.flopex.testing.Sync;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import io.vertx.core.Vertx;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Each endpoint has a circuit breaker: failures of the endpoint open it, the client's own
 * mistakes do not, and a real request tries the endpoint again once it half-opens.
 */
class CircuitBreakerTest {

  private static final int FAILURES = 3;

  private Vertx vertx;
  private FakeUpstream a;
  private FakeUpstream b;
  private Gateway gateway;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    a = FakeUpstream.start(vertx);
    b = FakeUpstream.start(vertx);
    gateway = Gateway.builder(vertx)
        .provider("a", a.baseUrl())
        .provider("b", b.baseUrl())
        .model("m", "a", "b")
        .model("only-a", "a")
        .breaker(FAILURES, 400)
        .start();
    b.always(json(200, fixture("openai/openai-text.json")));
  }

  @AfterEach
  void stop() {
    gateway.close();
    a.close();
    b.close();
    Sync.await(vertx.close());
  }

  private HttpResponse<String> ask(String model) {
    return gateway.post("/v1/chat/completions",
        Chunks.request(false, "").replace("\"m\"", "\"" + model + "\""));
  }

  private static String served(HttpResponse<String> response) {
    return response.headers().firstValue("x-flopex-provider").orElse("");
  }

  @Test
  void failuresInARowOpenTheCircuitAndTrafficGoesAroundTheEndpoint() {
    a.always(json(500, openAiError("boom", "server_error", null)));
    for (int i = 0; i < FAILURES; i++) {
      assertThat(served(ask("m"))).isEqualTo("b");
    }
    assertThat(a.calls()).isEqualTo(FAILURES);

    for (int i = 0; i < 5; i++) {
      HttpResponse<String> response = ask("m");
      assertThat(served(response)).isEqualTo("b");
      assertThat(response.headers().firstValue("x-flopex-attempts")).hasValue("1");
    }
    assertThat(a.calls()).isEqualTo(FAILURES);
  }

  @Test
  void aHalfOpenCircuitIsTriedByOneRealRequestAndClosesWhenItSucceeds() {
    a.always(json(500, openAiError("boom", "server_error", null)));
    for (int i = 0; i < FAILURES; i++) {
      ask("m");
    }
    a.always(json(200, fixture("openai/openai-text.json")));

    await().atMost(Duration.ofSeconds(10)).until(() -> served(ask("m")).equals("a"));

    assertThat(a.calls()).isEqualTo(FAILURES + 1);
    for (int i = 0; i < 3; i++) {
      assertThat(served(ask("m"))).isEqualTo("a");
    }
  }

  @Test
  void aFailedTrialOpensTheCircuitAgain() {
    a.always(json(503, openAiError("overloaded", "server_error", null)));
    for (int i = 0; i < FAILURES; i++) {
      ask("m");
    }

    await().atMost(Duration.ofSeconds(10)).until(() -> {
      ask("m");
      return a.calls() == FAILURES + 1;
    });
    for (int i = 0; i < 3; i++) {
      HttpResponse<String> response = ask("m");
      assertThat(served(response)).isEqualTo("b");
      assertThat(response.headers().firstValue("x-flopex-attempts")).hasValue("1");
    }
    assertThat(a.calls()).isEqualTo(FAILURES + 1);
  }

  @Test
  void theClientsOwnMistakesNeverOpenTheCircuit() {
    a.always(json(400, openAiError("messages[0].content is invalid", "invalid_request_error",
        null)));
    for (int i = 0; i < FAILURES * 3; i++) {
      assertThat(ask("m").statusCode()).isEqualTo(400);
    }
    assertThat(a.calls()).isEqualTo(FAILURES * 3);
    assertThat(b.calls()).isZero();
  }

  @Test
  void connectionFailuresAndTimeoutsCount() {
    gateway.close();
    int refused = FakeUpstream.refusedPort();
    gateway = Gateway.builder(vertx)
        .provider("gone", "http://127.0.0.1:" + refused + "/v1")
        .provider("b", b.baseUrl())
        .model("m", "gone", "b")
        .breaker(FAILURES, 60_000)
        .start();
    for (int i = 0; i < FAILURES; i++) {
      assertThat(ask("m").headers().firstValue("x-flopex-attempts")).hasValue("2");
    }
    HttpResponse<String> after = ask("m");
    assertThat(after.headers().firstValue("x-flopex-attempts")).hasValue("1");
    assertThat(served(after)).isEqualTo("b");
  }

  @Test
  void whenEveryCircuitIsOpenTheAnswerIsImmediateWithRetryAfter() {
    gateway.close();
    gateway = Gateway.builder(vertx)
        .provider("a", a.baseUrl())
        .model("only-a", "a")
        .breaker(FAILURES, 30_000)
        .start();
    a.always(json(500, openAiError("boom", "server_error", null)));
    for (int i = 0; i < FAILURES; i++) {
      assertThat(ask("only-a").statusCode()).isEqualTo(502);
    }

    HttpResponse<String> response = ask("only-a");

    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(Long.parseLong(response.headers().firstValue("retry-after").orElseThrow()))
        .isBetween(25L, 30L);
    assertThat(response.headers().firstValue("x-flopex-attempts")).hasValue("0");
    assertThat(a.calls()).isEqualTo(FAILURES);
  }

  @Test
  void aStreamingTrialClosesTheCircuitAsSoonAsItsContentFlows() {
    a.always(json(500, openAiError("boom", "server_error", null)));
    for (int i = 0; i < FAILURES; i++) {
      ask("m");
    }
    // The trial's stream sends content and then never ends: its verdict cannot wait for the end.
    List<String> frames = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      frames.add("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,"
          + "\"model\":\"up-a\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"},"
          + "\"finish_reason\":null}]}\n\n");
    }
    a.always(FakeUpstream.writes(frames, 10, false));
    await().atMost(Duration.ofSeconds(10)).until(() -> state("a").equals("half_open"));

    try (SseClient stream = SseClient.open(gateway, Chunks.request(true, ""))) {
      assertThat(stream.status()).isEqualTo(200);
      assertThat(stream.next()).contains("\"x\"");
      await().atMost(Duration.ofSeconds(10)).until(() -> state("a").equals("closed"));
    }
  }

  @Test
  void retryAfterCoversAnOpenCircuitAsWellAsARest() {
    gateway.close();
    gateway = Gateway.builder(vertx)
        .provider("a", a.baseUrl())
        .model("only-a", "a")
        .breaker(1, 20_000)
        .start();
    a.always(json(429, openAiError("slow down", "requests", "rate_limit_exceeded"),
        "retry-after", "1"));
    assertThat(ask("only-a").statusCode()).isEqualTo(503);

    HttpResponse<String> response = ask("only-a");

    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(Long.parseLong(response.headers().firstValue("retry-after").orElseThrow()))
        .isBetween(15L, 20L);
    assertThat(a.calls()).isEqualTo(1);
  }

  private String state(String provider) {
    for (Object e : gateway.adminGet("/admin/v1/endpoints").getJsonArray("endpoints")) {
      JsonObject endpoint = (JsonObject) e;
      if (endpoint.getString("model").equals("m")
          && endpoint.getString("provider").equals(provider)) {
        return endpoint.getString("circuit");
      }
    }
    throw new IllegalArgumentException(provider);
  }
}
