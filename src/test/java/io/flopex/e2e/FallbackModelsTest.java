package io.flopex.e2e;

import static io.flopex.testing.FakeUpstream.fixture;
import static io.flopex.testing.FakeUpstream.json;
import static io.flopex.testing.FakeUpstream.openAiError;
import static io.flopex.testing.FakeUpstream.sse;
import static org.assertj.core.api.Assertions.assertThat;

import io.flopex.testing.Chunks;
import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.SseClient;
import io.flopex.testing.Sync;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** OpenRouter's {@code models}: other models tried in order when every endpoint of one fails. */
class FallbackModelsTest {

  private Vertx vertx;
  private FakeUpstream a;
  private FakeUpstream b;
  private Gateway gateway;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    a = FakeUpstream.start(vertx);
    b = FakeUpstream.start(vertx);
  }

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
    a.close();
    b.close();
    Sync.await(vertx.close());
  }

  private Gateway gateway(int maxAttempts) {
    gateway = Gateway.builder(vertx)
        .provider("a", a.baseUrl())
        .provider("b", b.baseUrl())
        .model("primary", "a")
        .model("backup", "b")
        .routing(maxAttempts)
        .start();
    return gateway;
  }

  private static String request(boolean stream, String models) {
    return Chunks.request(stream, "\"models\":" + models).replace("\"m\"", "\"primary\"");
  }

  @Test
  void whenEveryEndpointOfTheModelFailsTheNextModelServes() {
    gateway(4);
    a.always(json(503, openAiError("overloaded", "server_error", null)));
    b.then(json(200, fixture("openai/openai-text.json")));

    HttpResponse<String> response = gateway.post("/v1/chat/completions",
        request(false, "[\"primary\",\"backup\"]"));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("x-flopex-provider")).hasValue("b");
    assertThat(response.headers().firstValue("x-flopex-fallbacks")).hasValue("1");
    assertThat(response.headers().firstValue("x-flopex-attempts")).hasValue("2");
    assertThat(new JsonObject(response.body()).getString("model")).isEqualTo("backup");
    assertThat(a.lastRequest().body().containsKey("models")).isFalse();
    assertThat(b.lastRequest().body().getString("model")).isEqualTo("up-b");
  }

  @Test
  void aStreamFallsBackBeforeContentUnderTheServingModelsName() {
    gateway(4);
    a.then(json(429, openAiError("slow down", "requests", null)));
    b.then(sse(List.of(Chunks.content("from backup"), Chunks.finish("stop"))));

    try (SseClient client = SseClient.open(gateway, request(true, "[\"backup\"]"))) {
      assertThat(client.header("x-flopex-fallbacks")).isEqualTo("1");
      List<String> events = client.rest();
      assertThat(String.join("", events)).contains("from backup");
      assertThat(new JsonObject(events.get(0)).getString("model")).isEqualTo("backup");
    }
  }

  @Test
  void theClientsOwnMistakeDoesNotFallBack() {
    gateway(4);
    a.then(json(400, openAiError("bad temperature", "invalid_request_error", null)));

    HttpResponse<String> response = gateway.post("/v1/chat/completions",
        request(false, "[\"backup\"]"));

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(b.calls()).isZero();
    assertThat(response.headers().firstValue("x-flopex-fallbacks")).hasValue("0");
  }

  @Test
  void anUnknownFallbackIsSkippedWithAWarning() {
    gateway(4);
    a.then(json(500, "{}"));
    b.then(json(200, fixture("openai/openai-text.json")));

    HttpResponse<String> response = gateway.post("/v1/chat/completions",
        request(false, "[\"no-such-model\",\"backup\"]"));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("x-flopex-warnings")).hasValueSatisfying(
        w -> assertThat(w).contains("no-such-model"));
  }

  @Test
  void theAttemptBudgetCoversEveryModel() {
    gateway(1);
    a.then(json(503, "{}"));

    HttpResponse<String> response = gateway.post("/v1/chat/completions",
        request(false, "[\"backup\"]"));

    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(b.calls()).isZero();
  }

  @Test
  void aMalformedModelsListIsRefusedNamingTheEntry() {
    gateway(4);

    HttpResponse<String> response = gateway.post("/v1/chat/completions",
        request(false, "[\"backup\",42]"));

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(response.body()).getJsonObject("error").getString("param"))
        .isEqualTo("models[1]");
    assertThat(a.calls()).isZero();
  }
}
