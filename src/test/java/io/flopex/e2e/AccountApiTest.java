package io.flopex.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.flopex.testing.Chunks;
import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.Sync;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The account API: a management key buys a short-lived token; the token manages the account
 * and its keys; forged, expired and unsigned tokens are refused.
 */
class AccountApiTest {

  private static final String SECRET = "test-token-secret-0123456789abcdefghij";

  private Vertx vertx;
  private FakeUpstream upstream;
  private Gateway gateway;
  private KeyPair idp;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    upstream = FakeUpstream.start(vertx);
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    idp = generator.generateKeyPair();
    gateway = Gateway.builder(vertx)
        .provider("p", upstream.baseUrl())
        .model("m", "p")
        .auth("tokenSecret", SECRET)
        .auth("external", new JsonObject().put("issuer", "https://idp.example.com")
            .put("audience", "flopex").put("publicKey", pem("PUBLIC KEY",
                idp.getPublic().getEncoded())))
        .start();
  }

  @AfterEach
  void stop() {
    gateway.close();
    upstream.close();
    Sync.await(vertx.close());
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }

  private String managementKey() {
    return gateway.adminPost("/admin/v1/accounts/" + gateway.accountId() + "/management-keys",
        new JsonObject()).getString("key");
  }

  private String token() {
    HttpResponse<String> response = call("POST", "/v1/auth/token", managementKey(), null);
    assertThat(response.statusCode()).isEqualTo(200);
    JsonObject body = new JsonObject(response.body());
    assertThat(body.getInteger("expires_in")).isEqualTo(900);
    return body.getString("token");
  }

  private HttpResponse<String> call(String method, String path, String bearer, JsonObject body) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(gateway.url(path)))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body.encode()))
        .header("content-type", "application/json");
    if (bearer != null) {
      request.header("authorization", "Bearer " + bearer);
    }
    return gateway.send(request.build());
  }

  private HttpResponse<String> chat(String key) {
    return gateway.send(HttpRequest.newBuilder(URI.create(gateway.url("/v1/chat/completions")))
        .header("authorization", "Bearer " + key).header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(Chunks.request(false, ""))).build());
  }

  @Test
  void aManagementKeyBuysATokenThatManagesTheAccount() {
    String token = token();

    JsonObject account = new JsonObject(call("GET", "/v1/account", token, null).body());
    assertThat(account.getString("id")).isEqualTo(gateway.accountId());
    assertThat(account.getLong("balance_micros")).isZero();

    HttpResponse<String> patched = call("PATCH", "/v1/account", token,
        new JsonObject().put("email", "new@example.com"));
    assertThat(patched.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(patched.body()).getString("email")).isEqualTo("new@example.com");
  }

  @Test
  void keysAreCreatedWithLimitsShownOnceChangedAndRevoked() {
    String token = token();
    HttpResponse<String> created = call("POST", "/v1/keys", token, new JsonObject()
        .put("name", "ci").put("limit_micros", 5_000_000).put("limit_reset", "monthly")
        .put("rpm", 60).put("tpm", 100_000).put("max_concurrent", 4)
        .put("expires_at", "2099-01-01T00:00:00Z").put("allowed_models", new JsonArray().add("m")));
    assertThat(created.statusCode()).isEqualTo(201);
    JsonObject key = new JsonObject(created.body());
    assertThat(key.getString("key")).startsWith("sk-flx-");
    assertThat(key.getInteger("rpm")).isEqualTo(60);
    assertThat(key.getJsonArray("allowed_models")).containsExactly("m");
    assertThat(chat(key.getString("key")).statusCode()).isEqualTo(200);

    JsonArray listed = new JsonObject(call("GET", "/v1/keys", token, null).body())
        .getJsonArray("data");
    assertThat(listed.encode()).doesNotContain(key.getString("key"));
    assertThat(listed).hasSize(2);

    HttpResponse<String> patched = call("PATCH", "/v1/keys/" + key.getString("id"), token,
        new JsonObject().put("rpm", null).put("tpm", 5));
    assertThat(patched.statusCode()).isEqualTo(200);
    JsonObject changed = new JsonObject(patched.body());
    assertThat(changed.getInteger("rpm")).isNull();
    assertThat(changed.getLong("tpm")).isEqualTo(5);
    assertThat(changed.getLong("limit_micros")).isEqualTo(5_000_000);

    assertThat(call("DELETE", "/v1/keys/" + key.getString("id"), token, null).statusCode())
        .isEqualTo(200);
    assertThat(chat(key.getString("key")).statusCode()).isEqualTo(401);
  }

  @Test
  void anotherAccountsKeyCannotBeTouched() {
    JsonObject other = gateway.adminPost("/admin/v1/accounts",
        new JsonObject().put("email", "other@example.com"));
    String otherKey = gateway.adminPost("/admin/v1/accounts/" + other.getString("id") + "/keys",
        new JsonObject().put("name", "theirs")).getString("id");
    String token = token();
    assertThat(call("DELETE", "/v1/keys/" + otherKey, token, null).statusCode()).isEqualTo(404);
    assertThat(call("PATCH", "/v1/keys/" + otherKey, token, new JsonObject().put("rpm", 1))
        .statusCode()).isEqualTo(404);
  }

  @Test
  void badKeyFieldsAreRefusedNamingTheField() {
    String token = token();
    for (JsonObject body : List.of(new JsonObject().put("rpm", 0),
        new JsonObject().put("limit_reset", "hourly"), new JsonObject().put("tpm", "lots"),
        new JsonObject().put("expires_at", "tomorrow"),
        new JsonObject().put("expires_at", "2001-01-01T00:00:00Z"),
        new JsonObject().put("allowed_models", new JsonArray()),
        new JsonObject().put("colour", "red"))) {
      HttpResponse<String> response = call("POST", "/v1/keys", token, body);
      assertThat(response.statusCode()).as(body.encode()).isEqualTo(400);
      assertThat(new JsonObject(response.body()).getJsonObject("error").getString("param"))
          .isEqualTo(body.fieldNames().iterator().next());
    }
  }

  @Test
  void expiredForgedAndUnsignedTokensAreRefused() {
    JWTAuth sameSecret = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(
        new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(SECRET)));
    JWTAuth otherSecret = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(
        new PubSecKeyOptions().setAlgorithm("HS256").setBuffer("another-secret-0123456789abcdef")));
    JsonObject claims = new JsonObject().put("sub", gateway.accountId());
    JWTOptions valid = new JWTOptions().setAlgorithm("HS256").setIssuer("flopex")
        .setAudience(List.of("flopex-account-api"));
    long now = System.currentTimeMillis() / 1000;
    String expired = sameSecret.generateToken(claims.copy().put("exp", now - 60)
        .put("iat", now - 1000), valid.setNoTimestamp(true));
    // generateToken adds iat and exp to the object it is given: each token gets a copy.
    String forged = otherSecret.generateToken(claims.copy(), new JWTOptions().setAlgorithm("HS256")
        .setIssuer("flopex").setAudience(List.of("flopex-account-api"))
        .setExpiresInSeconds(600));
    String neverExpires = sameSecret.generateToken(claims.copy(), new JWTOptions()
        .setAlgorithm("HS256").setIssuer("flopex").setAudience(List.of("flopex-account-api")));
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    String unsigned = b64.encodeToString("{\"alg\":\"none\",\"typ\":\"JWT\"}".getBytes())
        + "." + b64.encodeToString(claims.copy().put("iss", "flopex")
            .put("aud", "flopex-account-api").put("exp", now + 600).encode().getBytes()) + ".";

    for (String token : List.of(expired, forged, neverExpires, unsigned, "garbage", "")) {
      HttpResponse<String> response = call("GET", "/v1/account", token, null);
      assertThat(response.statusCode()).as(token).isEqualTo(401);
      assertThat(new JsonObject(response.body()).getJsonObject("error").getString("code"))
          .isEqualTo("invalid_api_key");
    }
    assertThat(call("GET", "/v1/account", null, null).statusCode()).isEqualTo(401);
    assertThat(call("POST", "/v1/auth/token", gateway.key(), null).statusCode()).isEqualTo(401);
    assertThat(call("GET", "/v1/account", gateway.key(), null).statusCode()).isEqualTo(401);
  }

  @Test
  void tokensOfTheConfiguredIdentityProviderAreAccepted() {
    JWTAuth provider = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(
        new PubSecKeyOptions().setAlgorithm("RS256")
            .setBuffer(pem("PRIVATE KEY", idp.getPrivate().getEncoded()))));
    String token = provider.generateToken(new JsonObject().put("sub", gateway.accountId()),
        new JWTOptions().setAlgorithm("RS256").setIssuer("https://idp.example.com")
            .setAudience(List.of("flopex")).setExpiresInSeconds(300));
    String wrongAudience = provider.generateToken(new JsonObject().put("sub",
        gateway.accountId()), new JWTOptions().setAlgorithm("RS256")
        .setIssuer("https://idp.example.com").setAudience(List.of("someone-else"))
        .setExpiresInSeconds(300));

    assertThat(call("GET", "/v1/account", token, null).statusCode()).isEqualTo(200);
    assertThat(call("GET", "/v1/account", wrongAudience, null).statusCode()).isEqualTo(401);
  }
}
