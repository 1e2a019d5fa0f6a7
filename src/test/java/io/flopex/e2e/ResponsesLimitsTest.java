package io.flopex.e2e;

import static io.flopex.testing.FakeUpstream.fixture;
import static io.flopex.testing.FakeUpstream.json;
import static org.assertj.core.api.Assertions.assertThat;

import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.Sync;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Responses dialect is bounded like the others: an empty wallet gets 402 and a key past its
 * requests a minute gets 429 with its rate-limit headers, before any upstream call, in the
 * Responses API's error shape.
 */
class ResponsesLimitsTest {

  private Vertx vertx;
  private FakeUpstream upstream;
  private Gateway gateway;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    upstream = FakeUpstream.start(vertx);
    upstream.always(json(200, fixture("openai/openai-text.json")));
    gateway = Gateway.builder(vertx)
        .provider("p", upstream.baseUrl())
        .model("m", new JsonObject().put("prompt", 1).put("completion", 1000), "p")
        .billing()
        .start();
  }

  @AfterEach
  void stop() {
    gateway.close();
    upstream.close();
    Sync.await(vertx.close());
  }

  private HttpResponse<String> ask(String key) {
    return gateway.send(HttpRequest.newBuilder(URI.create(gateway.url("/v1/responses")))
        .header("authorization", "Bearer " + key).header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("model", "m")
            .put("input", "Say hello.").put("max_output_tokens", 10).encode())).build());
  }

  @Test
  void anEmptyWalletIsRefusedWith402BeforeAnyUpstreamCall() {
    HttpResponse<String> refused = ask(gateway.key());

    assertThat(refused.statusCode()).isEqualTo(402);
    JsonObject error = new JsonObject(refused.body()).getJsonObject("error");
    assertThat(error.getString("type")).isEqualTo("insufficient_quota");
    assertThat(error.getString("code")).isEqualTo("insufficient_credits");
    assertThat(error.getString("message")).isNotBlank();
    assertThat(upstream.calls()).isZero();
  }

  @Test
  void aKeyPastItsRequestsAMinuteIsRefusedWith429AndItsHeaders() {
    gateway.adminPost("/admin/v1/accounts/" + gateway.accountId() + "/credits",
        new JsonObject().put("amount_micros", 10_000_000).put("reason", "test"));
    String key = gateway.adminPost("/admin/v1/accounts/" + gateway.accountId() + "/keys",
        new JsonObject().put("name", "limited").put("rpm", 2)).getString("key");

    HttpResponse<String> first = ask(key);
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(first.headers().firstValue("x-ratelimit-limit-requests")).hasValue("2");
    assertThat(first.headers().firstValue("x-ratelimit-remaining-requests")).hasValue("1");
    assertThat(ask(key).statusCode()).isEqualTo(200);
    HttpResponse<String> third = ask(key);

    assertThat(third.statusCode()).isEqualTo(429);
    assertThat(third.headers().firstValue("retry-after")).isPresent();
    assertThat(new JsonObject(third.body()).getJsonObject("error").getString("message"))
        .isNotBlank();
    assertThat(upstream.calls()).isEqualTo(2);
  }
}
