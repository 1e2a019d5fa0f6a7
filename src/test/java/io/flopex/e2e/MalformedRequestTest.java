package io.flopex.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.Sync;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A body the gateway cannot use is refused at the door with a 400 in OpenAI's error format,
 * naming the offending field when there is one, before anything reaches a provider.
 */
class MalformedRequestTest {

  private static final String VALID =
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

  private static Vertx vertx;
  private static FakeUpstream fake;
  private static Gateway gateway;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    fake = FakeUpstream.start(vertx);
    gateway = Gateway.builder(vertx).provider("a", fake.baseUrl()).model("m", "a").start();
  }

  @AfterAll
  static void stop() {
    gateway.close();
    fake.close();
    Sync.await(vertx.close());
  }

  /** A name for the report, the body sent, and the field the error must name (or null). */
  static Stream<Arguments> malformedBodies() {
    return Stream.of(
        Arguments.of("truncated JSON", "{\"model\":\"m\",\"messages\":[", null),
        Arguments.of("unquoted names", "{model:\"m\"}", null),
        Arguments.of("empty body", "", null),
        Arguments.of("null", "null", null),
        Arguments.of("empty array", "[]", null),
        Arguments.of("messages is a string", "{\"model\":\"m\",\"messages\":\"hi\"}", "messages"),
        Arguments.of("message without a role",
            "{\"model\":\"m\",\"messages\":[{\"content\":\"hi\"}]}", "messages[0].role"),
        Arguments.of("broken streaming request",
            "{\"stream\":true,\"model\":\"m\",\"messages\":[", null));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformedBodies")
  void b35_malformedBodyGetsAnOpenAiShaped400(String name, String body, String param) {
    int callsBefore = fake.calls();
    String requestId = java.util.UUID.randomUUID().toString();
    HttpResponse<String> response = gateway.post("/v1/chat/completions", body, requestId);

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.headers().firstValue("content-type")).hasValueSatisfying(
        type -> assertThat(type).startsWith("application/json"));
    JsonObject error = new JsonObject(response.body()).getJsonObject("error");
    assertThat(error.fieldNames()).containsExactlyInAnyOrder("message", "type", "param", "code");
    assertThat(error.getString("type")).isEqualTo("invalid_request_error");
    assertThat(error.getString("message")).isNotBlank();
    assertThat(error.getString("code")).isNotBlank();
    assertThat(error.getValue("param")).isEqualTo(param);
    assertThat(fake.calls()).isEqualTo(callsBefore);
    io.vertx.sqlclient.Row row = gateway.awaitUsageRow(requestId);
    assertThat(row.getString("outcome")).isEqualTo(error.getString("code"));
    assertThat(row.getInteger("status")).isEqualTo(400);
    assertThat(row.getLong("cost_micros")).isZero();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformedBodies")
  void b35_malformedBodyLeaksNoStackTrace(String name, String body, String param) {
    String answer = gateway.post("/v1/chat/completions", body).body();

    assertThat(answer).doesNotContain("Exception", "at io.", "\tat ", "jackson", "[Source:",
        "Caused by");
  }

  @Test
  void b35_validRequestRightAfterMalformedOnesSucceeds() {
    malformedBodies().forEach(args -> assertThat(
        gateway.post("/v1/chat/completions", (String) args.get()[1]).statusCode())
        .isEqualTo(400));
    int callsBefore = fake.calls();

    HttpResponse<String> response = gateway.post("/v1/chat/completions", VALID);

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(response.body()).getJsonArray("choices")).isNotEmpty();
    assertThat(fake.calls()).isEqualTo(callsBefore + 1);
  }
}
