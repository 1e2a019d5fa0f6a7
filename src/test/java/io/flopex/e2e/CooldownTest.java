package io.flopex.e2e;

import static io.flopex.testing.FakeUpstream.fixture;
import static io.flopex.testing.FakeUpstream.json;
import static io.flopex.testing.FakeUpstream.openAiError;
import static org.assertj.core.api.Assertions.assertThat;

import io.flopex.testing.Chunks;
import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.Sync;
import io.vertx.core.Vertx;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A provider out of capacity rests, and the requests that follow do not knock on its door. */
class CooldownTest {

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
        .model("only-b", "b")
        .start();
  }

  @AfterEach
  void stop() {
    gateway.close();
    a.close();
    b.close();
    Sync.await(vertx.close());
  }

  private static String limited() {
    return openAiError("Rate limit reached", "requests", "rate_limit_exceeded");
  }

  @Test
  void b16b_anEndpointThatAnswered429GetsNoTrafficWhileItRests() {
    a.then(json(429, limited()));
    b.always(json(200, fixture("openai/openai-text.json")));

    assertThat(gateway.post("/v1/chat/completions", Chunks.request(false, ""))
        .headers().firstValue("x-flopex-provider")).hasValue("b");
    for (int i = 0; i < 5; i++) {
      HttpResponse<String> next = gateway.post("/v1/chat/completions", Chunks.request(false, ""));
      assertThat(next.headers().firstValue("x-flopex-attempts")).hasValue("1");
    }

    assertThat(a.calls()).isEqualTo(1);
  }

  @Test
  void b16c_whenEveryEndpointRestsTheAnswerIsImmediateWithoutAnyUpstreamCall() {
    a.then(json(429, limited(), "retry-after", "30"));
    b.then(json(429, limited(), "retry-after", "30"));
    HttpResponse<String> first = gateway.post("/v1/chat/completions", Chunks.request(false, ""));
    assertThat(first.statusCode()).isEqualTo(503);

    HttpResponse<String> next = gateway.post("/v1/chat/completions", Chunks.request(false, ""));

    assertThat(next.statusCode()).isEqualTo(503);
    assertThat(Long.parseLong(next.headers().firstValue("retry-after").orElseThrow()))
        .isBetween(25L, 30L);
    assertThat(next.headers().firstValue("x-flopex-attempts")).hasValue("0");
    assertThat(next.body()).doesNotContain("127.0.0.1").doesNotContain("sk-upstream");
    assertThat(a.calls()).isEqualTo(1);
    assertThat(b.calls()).isEqualTo(1);
  }

  @Test
  void b16a_aSingleProviderAskingForPatienceGetsTheClientARetryAfter() {
    a.then(json(429, limited(), "retry-after", "4"));

    HttpResponse<String> response = gateway.post("/v1/chat/completions",
        Chunks.request(false, "").replace("\"m\"", "\"only-a\""));

    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(response.headers().firstValue("retry-after")).hasValue("4");
  }

  @Test
  void fallbackModelsAreTriedWhenEveryEndpointOfTheRequestedModelRests() {
    a.then(json(429, limited(), "retry-after", "30"));
    b.always(json(200, fixture("openai/openai-text.json")));
    gateway.post("/v1/chat/completions", Chunks.request(false, "").replace("\"m\"",
        "\"only-a\""));

    HttpResponse<String> response = gateway.post("/v1/chat/completions",
        Chunks.request(false, "\"models\":[\"only-b\"]").replace("\"m\"", "\"only-a\""));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("x-flopex-provider")).hasValue("b");
    assertThat(response.headers().firstValue("x-flopex-fallbacks")).hasValue("1");
    assertThat(a.calls()).isEqualTo(1);
  }

  @Test
  void whenTheRequestedAndFallbackModelsAllRestTheAnswerNamesTheEarliestRecovery() {
    a.then(json(429, limited(), "retry-after", "30"));
    b.then(json(429, limited(), "retry-after", "10"));
    gateway.post("/v1/chat/completions", Chunks.request(false, "").replace("\"m\"",
        "\"only-a\""));
    gateway.post("/v1/chat/completions", Chunks.request(false, "").replace("\"m\"",
        "\"only-b\""));

    HttpResponse<String> response = gateway.post("/v1/chat/completions",
        Chunks.request(false, "\"models\":[\"only-b\"]").replace("\"m\"", "\"only-a\""));

    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(Long.parseLong(response.headers().firstValue("retry-after").orElseThrow()))
        .isBetween(5L, 10L);
    assertThat(response.headers().firstValue("x-flopex-attempts")).hasValue("0");
    assertThat(a.calls() + b.calls()).isEqualTo(2);
  }
}
