package io.flopex.e2e;

import static io.flopex.testing.FakeUpstream.fixture;
import static io.flopex.testing.FakeUpstream.json;
import static org.assertj.core.api.Assertions.assertThat;

import io.flopex.testing.Chunks;
import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.Sync;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** OpenRouter's {@code provider} object steers which endpoints serve a request. */
class ProviderPreferencesTest {

  private static Vertx vertx;
  private static FakeUpstream a;
  private static FakeUpstream b;
  private static Gateway gateway;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    a = FakeUpstream.start(vertx).always(json(200, fixture("openai/openai-text.json")));
    b = FakeUpstream.start(vertx).always(json(200, fixture("openai/openai-text.json")));
    gateway = Gateway.builder(vertx)
        .provider("a", a.baseUrl())
        .provider("b", b.baseUrl())
        .model("m", "a", "b")
        .endpoint("m", "b", "parameters", new JsonArray().add("temperature").add("tools"))
        .start();
  }

  @AfterAll
  static void stop() {
    gateway.close();
    a.close();
    b.close();
    Sync.await(vertx.close());
  }

  private static HttpResponse<String> post(String provider) {
    return gateway.post("/v1/chat/completions",
        Chunks.request(false, "\"provider\":" + provider));
  }

  @Test
  void orderChoosesWhoServesFirstAndIsNeverForwarded() {
    HttpResponse<String> response = post("{\"order\":[\"b\"]}");

    assertThat(response.headers().firstValue("x-flopex-provider")).hasValue("b");
    assertThat(b.lastRequest().body().containsKey("provider")).isFalse();
  }

  @Test
  void withoutFallbacksAFailingOrderedProviderIsNotReplaced() {
    int aCalls = a.calls();
    b.then(json(503, "{}"));

    HttpResponse<String> response = post("{\"order\":[\"b\"],\"allow_fallbacks\":false}");

    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(a.calls()).isEqualTo(aCalls);
  }

  @Test
  void ignoreRemovesAProvider() {
    assertThat(post("{\"ignore\":[\"a\"]}").headers().firstValue("x-flopex-provider"))
        .hasValue("b");
  }

  @Test
  void preferencesThatLeaveNoEndpointAreA400NamingProvider() {
    HttpResponse<String> response = post("{\"only\":[\"nobody\"]}");

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(response.body()).getJsonObject("error").getString("param"))
        .isEqualTo("provider");
  }

  @Test
  void malformedPreferencesAreRefusedNamingTheField() {
    HttpResponse<String> response = post("{\"order\":\"b\"}");

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(response.body()).getJsonObject("error").getString("param"))
        .isEqualTo("provider.order");
  }

  private static HttpResponse<String> post(String parameters, String provider) {
    return gateway.post("/v1/chat/completions",
        Chunks.request(false, parameters + ",\"provider\":" + provider));
  }

  @Test
  void requireParametersKeepsOnlyEndpointsThatDeclareEveryParameterUsed() {
    HttpResponse<String> response = post("\"temperature\":0.3",
        "{\"require_parameters\":true}");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("x-flopex-provider")).hasValue("b");
    assertThat(response.headers().firstValue("x-flopex-warnings")).isEmpty();
    assertThat(b.lastRequest().body().getDouble("temperature")).isEqualTo(0.3);
  }

  @Test
  void withoutRequireParametersEndpointsThatDeclareNothingStillServe() {
    HttpResponse<String> response = post("\"temperature\":0.3", "{}");

    assertThat(response.headers().firstValue("x-flopex-provider")).hasValue("a");
  }

  @Test
  void parametersNoEndpointSupportsAreA400NamingThem() {
    int calls = a.calls() + b.calls();

    HttpResponse<String> response = post("\"temperature\":0.3,\"seed\":7",
        "{\"require_parameters\":true}");

    assertThat(response.statusCode()).isEqualTo(400);
    JsonObject error = new JsonObject(response.body()).getJsonObject("error");
    assertThat(error.getString("code")).isEqualTo("invalid_request");
    assertThat(error.getString("param")).isEqualTo("provider.require_parameters");
    assertThat(error.getString("message")).contains("seed, temperature");
    assertThat(a.calls() + b.calls()).isEqualTo(calls);
  }

  @Test
  void sortByLatencyPrefersTheEndpointThatAnsweredFaster() {
    a.then((req, resp, v) -> v.setTimer(300, id -> resp.putHeader("content-type",
        "application/json").end(fixture("openai/openai-text.json"))));
    assertThat(post("{\"order\":[\"a\"]}").headers().firstValue("x-flopex-provider"))
        .hasValue("a");
    assertThat(post("{\"order\":[\"b\"]}").headers().firstValue("x-flopex-provider"))
        .hasValue("b");

    HttpResponse<String> response = post("{\"sort\":\"latency\"}");

    assertThat(response.headers().firstValue("x-flopex-provider")).hasValue("b");
  }
}
