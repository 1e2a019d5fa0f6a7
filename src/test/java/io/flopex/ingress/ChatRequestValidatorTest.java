package io.flopex.ingress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.flopex.bus.Failure;
import io.flopex.bus.ProviderPreferences;
import io.flopex.ingress.ChatRequestValidator.Validated;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ChatRequestValidatorTest {

  private static final String MESSAGES = "[{\"role\":\"user\",\"content\":\"hi\"}]";

  private static Validated validate(String body) {
    return ChatRequestValidator.validate(Buffer.buffer(body));
  }

  private static ApiError rejected(String body) {
    return catchThrowableOfType(ApiError.class, () -> validate(body));
  }

  private static String withField(String field) {
    return "{\"model\":\"m\",\"messages\":" + MESSAGES + "," + field + "}";
  }

  private static void assertInvalidRequest(ApiError error, String param) {
    assertThat(error).as("expected an ApiError").isNotNull();
    assertThat(error.failure()).isEqualTo(Failure.INVALID_REQUEST);
    assertThat(error.status()).isEqualTo(400);
    assertThat(error.param()).isEqualTo(param);
  }

  private static void assertInvalidJson(ApiError error) {
    assertThat(error).as("expected an ApiError").isNotNull();
    assertThat(error.failure()).isEqualTo(Failure.INVALID_JSON);
    assertThat(error.status()).isEqualTo(400);
    assertThat(error.toOpenAi().getJsonObject("error").getString("type"))
        .isEqualTo("invalid_request_error");
  }

  @Test
  void minimalRequestIsAccepted() {
    Validated v = validate("{\"model\":\"m\",\"messages\":" + MESSAGES + "}");

    assertThat(v.model()).isEqualTo("m");
    assertThat(v.stream()).isFalse();
    assertThat(v.includeUsage()).isFalse();
    assertThat(v.warnings()).isEmpty();
    assertThat(v.request()).isEqualTo(new JsonObject()
        .put("model", "m")
        .put("messages", new JsonArray(MESSAGES)));
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "{\"model\":\"m\",\"messages\":[",
      "{model:\"m\"}",
      "{'model':'m'}",
      "{\"model\":\"m\",}",
      "not json",
      "{\"model\":\"m\"} {\"model\":\"n\"}"})
  void malformedJsonIsInvalidJson(String body) {
    assertInvalidJson(rejected(body));
  }

  @Test
  void emptyBodyIsInvalidJson() {
    assertInvalidJson(catchThrowableOfType(ApiError.class,
        () -> ChatRequestValidator.validate(Buffer.buffer())));
  }

  @Test
  void missingBodyIsInvalidJson() {
    assertInvalidJson(catchThrowableOfType(ApiError.class,
        () -> ChatRequestValidator.validate(null)));
  }

  @ParameterizedTest
  @ValueSource(strings = {"null", "[]", "[{\"model\":\"m\"}]", "\"text\"", "42", "true"})
  void bodyThatIsNotAnObjectIsInvalidJson(String body) {
    assertInvalidJson(rejected(body));
  }

  @Test
  void errorsCarryNoStackTrace() {
    assertThat(rejected("{").getStackTrace()).isEmpty();
  }

  @Test
  void missingModelIsRefusedNamingModel() {
    assertInvalidRequest(rejected("{\"messages\":" + MESSAGES + "}"), "model");
  }

  @ParameterizedTest
  @ValueSource(strings = {"\"\"", "\"  \"", "1", "null", "[\"m\"]"})
  void invalidModelIsRefusedNamingModel(String model) {
    assertInvalidRequest(rejected("{\"model\":" + model + ",\"messages\":" + MESSAGES + "}"),
        "model");
  }

  @Test
  void missingMessagesIsRefusedNamingMessages() {
    assertInvalidRequest(rejected("{\"model\":\"m\"}"), "messages");
  }

  @Test
  void messagesAsTextIsRefusedNamingMessages() {
    assertInvalidRequest(rejected("{\"model\":\"m\",\"messages\":\"hi\"}"), "messages");
  }

  @Test
  void emptyMessagesIsRefusedNamingMessages() {
    assertInvalidRequest(rejected("{\"model\":\"m\",\"messages\":[]}"), "messages");
  }

  @Test
  void messageThatIsNotAnObjectIsRefusedNamingIt() {
    assertInvalidRequest(rejected("{\"model\":\"m\",\"messages\":[\"hi\"]}"), "messages[0]");
  }

  @Test
  void messageWithoutRoleIsRefusedNamingIt() {
    String body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\"},"
        + "{\"content\":\"b\"}]}";

    assertInvalidRequest(rejected(body), "messages[1].role");
  }

  @ParameterizedTest
  @ValueSource(strings = {"\"human\"", "\"User\"", "\"\"", "1", "null"})
  void unknownRoleIsRefusedNamingIt(String role) {
    String body = "{\"model\":\"m\",\"messages\":[{\"role\":" + role + ",\"content\":\"a\"}]}";

    assertInvalidRequest(rejected(body), "messages[0].role");
  }

  @ParameterizedTest
  @ValueSource(strings = {"system", "developer", "user", "assistant", "tool", "function"})
  void knownRolesAreAccepted(String role) {
    String body = "{\"model\":\"m\",\"messages\":[{\"role\":\"" + role + "\",\"content\":\"a\"}]}";

    assertThat(validate(body).warnings()).isEmpty();
  }

  @Test
  void contentOfTheWrongTypeIsRefusedNamingIt() {
    String body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":5}]}";

    assertInvalidRequest(rejected(body), "messages[0].content");
  }

  @Test
  void userMessageWithoutContentIsRefusedNamingIt() {
    String body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\"}]}";

    assertInvalidRequest(rejected(body), "messages[0].content");
  }

  @Test
  void assistantMessageWithToolCallsAndNoContentIsAccepted() {
    String body = "{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"id\":"
        + "\"c1\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}]}";

    assertThat(validate(body).request().getJsonArray("messages").getJsonObject(0)
        .getJsonArray("tool_calls")).hasSize(1);
  }

  @Test
  void contentPartsAreAccepted() {
    String body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":"
        + "[{\"type\":\"text\",\"text\":\"hi\"}]}]}";

    assertThat(validate(body).warnings()).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"1.5", "\"100\"", "0", "-3", "true", "2147483648", "1e3"})
  void invalidMaxTokensIsRefusedNamingIt(String value) {
    assertInvalidRequest(rejected(withField("\"max_tokens\":" + value)), "max_tokens");
  }

  @Test
  void integerMaxTokensIsForwarded() {
    assertThat(validate(withField("\"max_tokens\":256")).request().getInteger("max_tokens"))
        .isEqualTo(256);
  }

  @ParameterizedTest
  @ValueSource(strings = {"1.5", "0", "\"4\""})
  void invalidMaxCompletionTokensIsRefusedNamingIt(String value) {
    assertInvalidRequest(rejected(withField("\"max_completion_tokens\":" + value)),
        "max_completion_tokens");
  }

  @ParameterizedTest
  @ValueSource(strings = {"0", "129", "2.5", "\"2\""})
  void invalidNIsRefusedNamingIt(String value) {
    assertInvalidRequest(rejected(withField("\"n\":" + value)), "n");
  }

  @ParameterizedTest
  @ValueSource(strings = {"-0.1", "2.1", "\"1\""})
  void temperatureOutOfRangeIsRefusedNamingIt(String value) {
    assertInvalidRequest(rejected(withField("\"temperature\":" + value)), "temperature");
  }

  @ParameterizedTest
  @ValueSource(strings = {"1.1", "-1", "\"0.5\""})
  void topPOutOfRangeIsRefusedNamingIt(String value) {
    assertInvalidRequest(rejected(withField("\"top_p\":" + value)), "top_p");
  }

  @Test
  void streamThatIsNotABooleanIsRefusedNamingIt() {
    assertInvalidRequest(rejected(withField("\"stream\":\"true\"")), "stream");
  }

  @Test
  void streamOptionsThatIsNotAnObjectIsRefusedNamingIt() {
    assertInvalidRequest(rejected(withField("\"stream_options\":true")), "stream_options");
  }

  @Test
  void includeUsageThatIsNotABooleanIsRefusedNamingIt() {
    assertInvalidRequest(rejected(withField("\"stream_options\":{\"include_usage\":1}")),
        "stream_options.include_usage");
  }

  @Test
  void toolsThatIsNotAnArrayIsRefusedNamingIt() {
    assertInvalidRequest(rejected(withField("\"tools\":{}")), "tools");
  }

  @Test
  void stopOfTheWrongTypeIsRefusedNamingIt() {
    assertInvalidRequest(rejected(withField("\"stop\":5")), "stop");
  }

  @Test
  void streamAndIncludeUsageAreRead() {
    Validated v =
        validate(withField("\"stream\":true,\"stream_options\":{\"include_usage\":true}"));

    assertThat(v.stream()).isTrue();
    assertThat(v.includeUsage()).isTrue();
  }

  @Test
  void includeUsageFalseIsNotIncludeUsage() {
    Validated v =
        validate(withField("\"stream\":true,\"stream_options\":{\"include_usage\":false}"));

    assertThat(v.stream()).isTrue();
    assertThat(v.includeUsage()).isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {"api_base", "base_url", "api_key", "api_version", "custom_llm_provider",
      "extra_headers", "headers", "endpoint", "url"})
  void redirectingFieldIsRefusedNamingIt(String field) {
    ApiError error = rejected(withField("\"" + field + "\":\"http://169.254.169.254/\""));

    assertInvalidRequest(error, field);
    assertThat(error.getMessage()).contains(field);
    assertThat(error.toOpenAi().getJsonObject("error").getString("param")).isEqualTo(field);
  }

  @Test
  void redirectingFieldIsRefusedEvenWhenNull() {
    assertInvalidRequest(rejected(withField("\"api_base\":null")), "api_base");
  }

  @Test
  void unknownFieldIsDroppedWithAWarningNamingIt() {
    Validated v = validate(withField("\"foo\":{\"bar\":1}"));

    assertThat(v.request().containsKey("foo")).isFalse();
    assertThat(v.warnings()).singleElement().asString().contains("'foo'");
  }

  @Test
  void everyUnknownFieldIsNamed() {
    Validated v = validate(withField("\"top_k\":40,\"system_prompt\":\"s\""));

    assertThat(v.request().fieldNames()).containsExactlyInAnyOrder("model", "messages");
    assertThat(v.warnings()).hasSize(2);
    assertThat(String.join(" ", v.warnings())).contains("top_k").contains("system_prompt");
  }

  @Test
  void unknownFieldNameIsMadeSafeForAHeader() {
    Validated v = validate(withField("\"x\\r\\nSet-Cookie: a\":1"));

    assertThat(v.warnings()).singleElement().asString()
        .doesNotContain("\r").doesNotContain("\n").doesNotContain(" a'");
  }

  @Test
  void veryLongUnknownFieldNameIsShortened() {
    Validated v = validate(withField("\"" + "f".repeat(5_000) + "\":1"));

    assertThat(v.warnings()).singleElement().asString().hasSizeLessThan(200);
  }

  @Test
  void knownFieldsAreForwardedUnchanged() {
    JsonObject body = new JsonObject()
        .put("model", "openai/gpt-4.1-nano")
        .put("messages", new JsonArray()
            .add(new JsonObject().put("role", "system").put("content", "be brief"))
            .add(new JsonObject().put("role", "user").put("content", new JsonArray()
                .add(new JsonObject().put("type", "text").put("text", "hi")))))
        .put("stream", true)
        .put("stream_options", new JsonObject().put("include_usage", true))
        .put("max_tokens", 100)
        .put("max_completion_tokens", 200)
        .put("temperature", 0.7)
        .put("top_p", 1)
        .put("n", 1)
        .put("stop", new JsonArray().add("\n\n"))
        .put("presence_penalty", 0.5)
        .put("frequency_penalty", -0.5)
        .put("logit_bias", new JsonObject().put("50256", -100))
        .put("logprobs", true)
        .put("top_logprobs", 2)
        .put("user", "u-1")
        .put("seed", 42)
        .put("tools", new JsonArray().add(new JsonObject().put("type", "function")
            .put("function", new JsonObject().put("name", "f")
                .put("parameters", new JsonObject().put("type", "object")))))
        .put("tool_choice", "auto")
        .put("parallel_tool_calls", false)
        .put("response_format", new JsonObject().put("type", "json_object"))
        .put("reasoning_effort", "low")
        .put("service_tier", "default")
        .put("store", false)
        .put("metadata", new JsonObject().put("k", "v"))
        .put("prompt_cache_key", "pk")
        .put("safety_identifier", "sid");

    Validated v = validate(body.encode());

    assertThat(v.warnings()).isEmpty();
    assertThat(v.request()).isEqualTo(body);
    assertThat(v.request().encode()).isEqualTo(body.encode());
  }

  @Test
  void knownFieldsKeepTheirValuesWhenUnknownOnesAreDropped() {
    Validated v = validate(withField("\"temperature\":0.2,\"foo\":1,\"seed\":7"));

    assertThat(v.request()).isEqualTo(new JsonObject()
        .put("model", "m")
        .put("messages", new JsonArray(MESSAGES))
        .put("temperature", 0.2)
        .put("seed", 7));
  }

  @Test
  void requireParametersNamesTheParametersTheRequestUsesByTheirCanonicalNames() {
    Validated v = validate(withField("\"temperature\":0.2,\"tools\":[],"
        + "\"max_completion_tokens\":9,\"reasoning_effort\":\"low\",\"top_p\":null,"
        + "\"stream\":false,\"user\":\"u\",\"metadata\":{},\"store\":false,"
        + "\"provider\":{\"require_parameters\":true}"));

    assertThat(v.preferences().requiredParameters())
        .containsExactly("max_tokens", "reasoning", "temperature", "tools");
    assertThat(v.warnings()).isEmpty();
  }

  @Test
  void withoutRequireParametersNoParameterIsRequired() {
    Validated v = validate(withField("\"temperature\":0.2,"
        + "\"provider\":{\"require_parameters\":false}"));

    assertThat(v.preferences().requiredParameters()).isEmpty();
    assertThat(v.preferences()).isEqualTo(ProviderPreferences.NONE);
  }

  @Test
  void requireParametersOnARequestWithoutParametersRequiresNothing() {
    Validated v = validate(withField("\"provider\":{\"require_parameters\":true}"));

    assertThat(v.preferences()).isEqualTo(ProviderPreferences.NONE);
  }

  @Test
  void droppedFieldsAreNotRequired() {
    Validated v = validate(withField("\"top_k\":5,\"provider\":{\"require_parameters\":true}"));

    assertThat(v.preferences().requiredParameters()).isEmpty();
  }

  @Test
  void requireParametersMustBeABoolean() {
    assertInvalidRequest(rejected(withField("\"provider\":{\"require_parameters\":\"yes\"}")),
        "provider.require_parameters");
  }
}
