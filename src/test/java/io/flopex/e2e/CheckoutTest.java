package io.flopex.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.flopex.testing.Gateway;
import io.flopex.testing.Sync;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /v1/billing/checkout} creates a Stripe Checkout Session through stripe-java,
 * against a stand-in for Stripe's API on loopback.
 */
class CheckoutTest {

  private Vertx vertx;
  private HttpServer stripe;
  private final List<MultiMap> sessions = new CopyOnWriteArrayList<>();
  private final List<String> authorizations = new CopyOnWriteArrayList<>();
  private Gateway gateway;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    stripe = Sync.await(vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(b -> {
      if (!req.path().equals("/v1/checkout/sessions")) {
        req.response().setStatusCode(404).end("{\"error\":{\"type\":\"invalid_request_error\"}}");
        return;
      }
      MultiMap form = MultiMap.caseInsensitiveMultiMap();
      for (String pair : b.toString(StandardCharsets.UTF_8).split("&")) {
        String[] kv = pair.split("=", 2);
        form.add(URLDecoder.decode(kv[0], StandardCharsets.UTF_8),
            kv.length > 1 ? URLDecoder.decode(kv[1], StandardCharsets.UTF_8) : "");
      }
      sessions.add(form);
      authorizations.add(req.getHeader("authorization"));
      req.response().putHeader("content-type", "application/json").end(new JsonObject()
          .put("id", "cs_test_123").put("object", "checkout.session")
          .put("url", "https://checkout.stripe.com/c/pay/cs_test_123")
          .put("client_reference_id", form.get("client_reference_id"))
          .put("mode", "payment").put("status", "open").encode());
    })).listen(0, "127.0.0.1"));
    gateway = Gateway.builder(vertx)
        .stripe("secretKey", "sk_test_fake_0123456789")
        .stripe("apiBase", "http://127.0.0.1:" + stripe.actualPort())
        .stripe("successUrl", "https://example.com/paid")
        .stripe("cancelUrl", "https://example.com/cancelled")
        .start();
  }

  @AfterEach
  void stop() {
    gateway.close();
    Sync.await(stripe.close());
    Sync.await(vertx.close());
  }

  private String token() {
    return gateway.accountToken();
  }

  private HttpResponse<String> checkout(String token, Object amount) {
    return gateway.send(HttpRequest.newBuilder(URI.create(gateway.url("/v1/billing/checkout")))
        .header("authorization", "Bearer " + token).header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("amount", amount)
            .encode())).build());
  }

  @Test
  void aCheckoutSessionIsCreatedForTheAccountInCents() {
    HttpResponse<String> response = checkout(token(), 25_000_000);

    assertThat(response.statusCode()).isEqualTo(201);
    JsonObject session = new JsonObject(response.body());
    assertThat(session.getString("url")).isEqualTo("https://checkout.stripe.com/c/pay/cs_test_123");
    assertThat(sessions).hasSize(1);
    MultiMap form = sessions.get(0);
    assertThat(form.get("client_reference_id")).isEqualTo(gateway.accountId());
    assertThat(form.get("mode")).isEqualTo("payment");
    assertThat(form.get("line_items[0][price_data][unit_amount]")).isEqualTo("2500");
    assertThat(form.get("line_items[0][price_data][currency]")).isEqualTo("usd");
    assertThat(authorizations.get(0)).isEqualTo("Bearer sk_test_fake_0123456789");
  }

  @Test
  void amountsThatAreNotWholeCentsOrOutOfRangeAreRefused() {
    String token = token();
    for (Object amount : new Object[] {1_234_567, 0, 999_999, -5_000_000, "10", 1.5}) {
      HttpResponse<String> response = checkout(token, amount);
      assertThat(response.statusCode()).as(String.valueOf(amount)).isEqualTo(400);
      assertThat(new JsonObject(response.body()).getJsonObject("error").getString("param"))
          .isEqualTo("amount");
    }
    assertThat(sessions).isEmpty();
  }

  @Test
  void withoutATokenNothingIsCreated() {
    assertThat(checkout("nope", 5_000_000).statusCode()).isEqualTo(401);
    assertThat(sessions).isEmpty();
  }
}
