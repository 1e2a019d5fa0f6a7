package io.flopex.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.RawHttp;
import io.flopex.testing.RawHttp.Response;
import io.flopex.testing.Sync;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Nothing but a live inference key gets past the front door, whatever the path spelling or
 * method, and a refusal never tells one kind of bad key from another. Requests go over raw
 * sockets so that the bytes on the wire are exactly the spelling under test. No test here makes
 * an upstream call, so the fake must stay untouched throughout.
 */
class AuthenticationTest {

  private static final String CHAT =
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  private static final String WELL_FORMED_WRONG_KEY = "sk-flx-" + "A".repeat(43);
  private static final String JUNK_KEY = "junk-0123";
  private static final List<String> SPELLINGS = List.of(
      "/v1/chat/completions",
      "/chat/completions",
      "/v1/messages",
      "//v1/chat/completions",
      "/v1/chat/completions/",
      "/V1/Chat/Completions",
      "/v1/chat%2Fcompletions",
      "/v1/%63hat/completions");
  private static final List<String> METHODS = List.of("POST", "GET", "HEAD", "OPTIONS");

  private static Vertx vertx;
  private static FakeUpstream fake;
  private static Gateway gateway;
  private static Response reference;
  private static Response messagesReference;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    fake = FakeUpstream.start(vertx);
    gateway = Gateway.builder(vertx).provider("a", fake.baseUrl()).model("m", "a").start();
    reference = send("POST", "/v1/chat/completions", null);
    messagesReference = send("POST", "/v1/messages", null);
  }

  @AfterAll
  static void stop() {
    gateway.close();
    fake.close();
    Sync.await(vertx.close());
  }

  static Stream<Arguments> everyRouteSpelling() {
    return METHODS.stream().flatMap(method -> SPELLINGS.stream()
        .map(path -> Arguments.of(method, path)));
  }

  @Test
  void b31_refusalIsAGenericOpenAiAuthenticationError() {
    assertThat(reference.status()).isEqualTo(401);
    assertThat(reference.header("content-type")).startsWith("application/json");
    JsonObject error = reference.json().getJsonObject("error");
    assertThat(error.fieldNames()).containsExactlyInAnyOrder("message", "type", "param", "code");
    assertThat(error.getString("type")).isEqualTo("authentication_error");
    assertThat(error.getString("message")).isNotBlank();
    assertThat(fake.calls()).isZero();
  }

  @Test
  void b31_refusalOnTheMessagesApiIsAGenericAnthropicAuthenticationError() {
    assertThat(messagesReference.status()).isEqualTo(401);
    JsonObject body = messagesReference.json();
    assertThat(body.getString("type")).isEqualTo("error");
    assertThat(body.getJsonObject("error").getString("type")).isEqualTo("authentication_error");
    assertThat(fake.calls()).isZero();
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("everyRouteSpelling")
  void b31_noKeyOnEveryRouteSpelling(String method, String path) {
    assertRefused(method, path, null);
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("everyRouteSpelling")
  void b31_wellFormedWrongKeyOnEveryRouteSpelling(String method, String path) {
    assertRefused(method, path, "Bearer " + WELL_FORMED_WRONG_KEY);
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("everyRouteSpelling")
  void b31_junkKeyOnEveryRouteSpelling(String method, String path) {
    assertRefused(method, path, "Bearer " + JUNK_KEY);
  }

  @ParameterizedTest
  @ValueSource(strings = {"/v1/chat/completions", "/v1/models"})
  void b31_adminTokenIsNotAnInferenceKey(String path) {
    assertRefused(path.endsWith("models") ? "GET" : "POST", path,
        "Bearer " + Gateway.ADMIN_TOKEN);
  }

  @Test
  void b31_rawRequestsWithTheRightKeyGetThrough() {
    // The refusals above mean something only if the same raw requests pass with a live key.
    Response models = send("GET", "/v1/models", "Bearer " + gateway.key());

    assertThat(models.status()).isEqualTo(200);
    assertThat(models.json().getJsonArray("data").getJsonObject(0).getString("id"))
        .isEqualTo("m");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "Bearer wrong-admin-token", "Bearer test-admin-token-012345678",
      "Basic dGVzdC1hZG1pbi10b2tlbi0wMTIzNDU2Nzg5"})
  void b31_adminApiWithoutTheAdminTokenIsRefused(String authorization) {
    String auth = authorization.isEmpty() ? null : authorization;
    String keysPath = "/admin/v1/accounts/" + gateway.accountId() + "/keys";
    String account = "{\"email\":\"intruder@example.com\"}";
    List<Response> answers = List.of(
        send("POST", "/admin/v1/accounts", auth, account),
        send("POST", keysPath, auth, "{\"name\":\"stolen\"}"),
        send("GET", keysPath, auth),
        send("DELETE", "/admin/v1/keys/" + UUID.randomUUID(), auth),
        send("GET", "/admin/v1/usage?account=" + gateway.accountId(), auth),
        send("POST", "//admin/v1/accounts", auth, account),
        send("POST", "/ADMIN/v1/accounts", auth, account),
        send("POST", "/%61dmin/v1/accounts", auth, account));

    assertThat(answers).allSatisfy(answer -> {
      assertThat(answer.status()).isEqualTo(401);
      assertThat(answer.body()).isEqualTo(reference.body());
    });
    assertThat(gateway.sql("SELECT count(*) FROM accounts").get(0).getLong(0)).isEqualTo(1);
    assertThat(gateway.sql("SELECT count(*) FROM api_keys WHERE name = 'stolen'").get(0)
        .getLong(0)).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"/admin/v1/accounts", "//admin/v1/accounts", "/ADMIN/v1/accounts",
      "/%61dmin/v1/accounts", "/admin/v1/../v1/../admin/v1/accounts"})
  void b31_inferenceKeyDoesNotOpenTheAdminApi(String path) {
    Response answer = send("POST", path, "Bearer " + gateway.key(),
        "{\"email\":\"escalated@example.com\"}");

    assertThat(answer.status()).isEqualTo(401);
    assertThat(answer.body()).isEqualTo(reference.body());
    assertThat(gateway.sql("SELECT count(*) FROM accounts WHERE email = 'escalated@example.com'")
        .get(0).getLong(0)).isZero();
  }

  @Test
  void b31_databaseHoldsOnlyAHashAndADisplayPrefix() throws Exception {
    String key = gateway.key();
    String secret = key.substring("sk-flx-".length());
    byte[] sha256 = MessageDigest.getInstance("SHA-256")
        .digest(key.getBytes(StandardCharsets.UTF_8));
    List<Row> rows = gateway.sql("SELECT * FROM api_keys");

    assertThat(rows).isNotEmpty();
    for (Row row : rows) {
      for (int column = 0; column < row.size(); column++) {
        Object value = row.getValue(column);
        String text = value instanceof Buffer b ? b.toString(StandardCharsets.ISO_8859_1)
            : String.valueOf(value);
        assertThat(text).as("column %s", row.getColumnName(column))
            .doesNotContain(key).doesNotContain(secret);
      }
    }
    Row stored = rows.stream()
        .filter(row -> MessageDigest.isEqual(row.getBuffer("key_hash").getBytes(), sha256))
        .findFirst().orElseThrow(() -> new AssertionError("no row holds the key's SHA-256"));
    assertThat(key).startsWith(stored.getString("prefix"));
    assertThat(stored.getString("prefix").length()).isLessThanOrEqualTo(16);
  }

  @Test
  void b31_keyIsShownOnlyWhenCreated() {
    HttpResponse<String> listed = gateway.send(HttpRequest.newBuilder(
            URI.create(gateway.url("/admin/v1/accounts/" + gateway.accountId() + "/keys")))
        .header("authorization", "Bearer " + Gateway.ADMIN_TOKEN)
        .GET().build());

    assertThat(listed.statusCode()).isEqualTo(200);
    assertThat(listed.body()).doesNotContain(gateway.key().substring("sk-flx-".length()));
    assertThat(new JsonObject(listed.body()).getJsonArray("data"))
        .allSatisfy(k -> assertThat(((JsonObject) k).containsKey("key")).isFalse());
  }

  @Test
  void b31_revokedKeyIsRefusedRightAfterRevocation() {
    JsonObject created = gateway.adminPost("/admin/v1/accounts/" + gateway.accountId() + "/keys",
        new JsonObject().put("name", "to-revoke"));
    String auth = "Bearer " + created.getString("key");
    // Fresh connections land on every ingress instance, so each one has seen the key live.
    for (int i = 0; i < 4; i++) {
      assertThat(send("GET", "/v1/models", auth).status()).isEqualTo(200);
    }

    HttpResponse<String> revoked = gateway.send(HttpRequest.newBuilder(
            URI.create(gateway.url("/admin/v1/keys/" + created.getString("id"))))
        .header("authorization", "Bearer " + Gateway.ADMIN_TOKEN)
        .DELETE().build());
    assertThat(revoked.statusCode()).isEqualTo(200);

    for (int i = 0; i < 4; i++) {
      Response models = send("GET", "/v1/models", auth);
      Response chat = send("POST", "/v1/chat/completions", auth, CHAT);
      assertThat(models.status()).isEqualTo(401);
      assertThat(chat.status()).isEqualTo(401);
      assertThat(chat.body()).isEqualTo(reference.body());
    }
    assertThat(fake.calls()).isZero();
  }

  @Test
  void b31_unauthenticatedUploadIsCutOff() {
    byte[] chunk = new byte[64 * 1024];
    Arrays.fill(chunk, (byte) 'x');
    int chunks = 160;
    try (RawHttp http = RawHttp.connect(gateway.port())) {
      http.write(RawHttp.head("POST", "/v1/chat/completions",
          "content-type", "application/json",
          "content-length", String.valueOf(chunks * chunk.length)));
      http.writeInBackground(Collections.nCopies(chunks, chunk).iterator());

      Response answer = http.readResponse("POST");

      assertThat(answer.status()).isEqualTo(401);
      assertThat(answer.body()).isEqualTo(reference.body());
      // The body of a request that will never be served must not hold the connection open.
      assertThat(http.closedByPeer()).as("connection closed by the gateway").isTrue();
    }
    assertThat(fake.calls()).isZero();
  }

  private static void assertRefused(String method, String path, String authorization) {
    Response answer = method.equals("POST") ? send(method, path, authorization, CHAT)
        : send(method, path, authorization);

    assertThat(answer.status()).isEqualTo(401);
    if (!method.equals("HEAD")) {
      // Each API refuses in its own dialect, the same way on every spelling.
      Response expected = path.equals("/v1/messages") ? messagesReference : reference;
      assertThat(answer.body()).isEqualTo(expected.body());
    }
    assertThat(fake.calls()).isZero();
  }

  private static Response send(String method, String path, String authorization) {
    return RawHttp.exchange(gateway.port(),
        RawHttp.head(method, path, "authorization", authorization));
  }

  private static Response send(String method, String path, String authorization, String body) {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    return RawHttp.exchange(gateway.port(), RawHttp.head(method, path,
        "authorization", authorization,
        "content-type", "application/json",
        "content-length", String.valueOf(bytes.length)) + body);
  }
}
