package io.flopex.e2e;

import static io.flopex.testing.FakeUpstream.fixture;
import static io.flopex.testing.FakeUpstream.json;
import static org.assertj.core.api.Assertions.assertThat;

import io.flopex.testing.Chunks;
import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.Sync;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A prompt too long for one model's window moves to a model with a larger one. */
class ContextLengthTest {

  private static Vertx vertx;
  private static FakeUpstream small;
  private static FakeUpstream smaller;
  private static FakeUpstream large;
  private static Gateway gateway;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    small = FakeUpstream.start(vertx);
    smaller = FakeUpstream.start(vertx);
    large = FakeUpstream.start(vertx).always(json(200, fixture("openai/openai-text.json")));
    gateway = Gateway.builder(vertx)
        .provider("small", small.baseUrl())
        .provider("smaller", smaller.baseUrl())
        .provider("large", large.baseUrl())
        .model("m8k", "small")
        .model("m4k", "smaller")
        .model("m128k", "large")
        .window("m8k", 8192)
        .window("m4k", 4096)
        .window("m128k", 131072)
        .model(new JsonObject().put("id", "m-guarded").put("contentPolicyFallback", "m128k")
            .put("endpoints", new io.vertx.core.json.JsonArray().add(new JsonObject()
                .put("provider", "small").put("upstreamModel", "up-small")
                .put("pricing", new JsonObject().put("prompt", 1).put("completion", 1)))))
        .start();
  }

  @AfterAll
  static void stop() {
    gateway.close();
    small.close();
    smaller.close();
    large.close();
    Sync.await(vertx.close());
  }

  private static String tooLong(int style) {
    return switch (style) {
      case 0 -> "{\"error\":{\"message\":\"This model's maximum context length is 8192 tokens."
          + " However, your messages resulted in 9000 tokens.\",\"type\":"
          + "\"invalid_request_error\",\"param\":\"messages\",\"code\":null}}";
      case 1 -> "{\"error\":{\"message\":\"Too many tokens.\",\"type\":\"invalid_request_error\","
          + "\"code\":\"context_length_exceeded\"}}";
      default -> "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\","
          + "\"message\":\"prompt is too long: 210000 tokens > 200000 maximum\"}}";
    };
  }

  private static String request(String models) {
    return Chunks.request(false, "\"models\":" + models).replace("\"m\"", "\"m8k\"");
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2})
  void b18a_everyWayOfSayingTooLongMovesToALargerWindowSkippingSmallerOnes(int style) {
    small.then(json(400, tooLong(style)));
    int smallerCalls = smaller.calls();

    HttpResponse<String> response = gateway.post("/v1/chat/completions",
        request("[\"m4k\",\"m128k\"]"));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("x-flopex-provider")).hasValue("large");
    assertThat(smaller.calls()).isEqualTo(smallerCalls);
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 2})
  void b18a_whenNothingFitsTheClientGetsContextLengthExceeded(int style) {
    small.then(json(400, tooLong(style)));

    HttpResponse<String> response = gateway.post("/v1/chat/completions", request("[\"m4k\"]"));

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(response.body()).getJsonObject("error").getString("code"))
        .isEqualTo("context_length_exceeded");
  }

  @org.junit.jupiter.api.Test
  void b18b_aContentPolicyRefusalReturnsUnroutedWithGenericFallbacks() {
    small.then(json(400, "{\"error\":{\"message\":\"Your request was rejected by our safety"
        + " system.\",\"type\":\"invalid_request_error\",\"code\":"
        + "\"content_policy_violation\"}}"));
    int largeCalls = large.calls();

    HttpResponse<String> response = gateway.post("/v1/chat/completions", request("[\"m128k\"]"));

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(response.body()).getJsonObject("error").getString("code"))
        .isEqualTo("content_policy_violation");
    assertThat(large.calls()).isEqualTo(largeCalls);
  }

  @org.junit.jupiter.api.Test
  void b18b_aContentPolicyRefusalReroutesToTheModelsExplicitContentPolicyFallback() {
    small.then(json(400, "{\"error\":{\"message\":\"Your request was rejected by our safety"
        + " system.\",\"type\":\"invalid_request_error\",\"code\":"
        + "\"content_policy_violation\"}}"));
    int largeCalls = large.calls();

    HttpResponse<String> response = gateway.post("/v1/chat/completions",
        Chunks.request(false, "").replace("\"m\"", "\"m-guarded\""));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("x-flopex-provider")).hasValue("large");
    assertThat(response.headers().firstValue("x-flopex-fallbacks")).hasValue("1");
    assertThat(large.calls()).isEqualTo(largeCalls + 1);
    JsonObject view = null;
    for (Object e : gateway.adminGet("/admin/v1/endpoints").getJsonArray("endpoints")) {
      JsonObject endpoint = (JsonObject) e;
      if (endpoint.getString("model").equals("m-guarded")) {
        view = endpoint;
      }
    }
    assertThat(view).isNotNull();
    assertThat(view.containsKey("restingUntil")).isFalse();
    assertThat(view.getString("circuit")).isEqualTo("closed");
  }
}
