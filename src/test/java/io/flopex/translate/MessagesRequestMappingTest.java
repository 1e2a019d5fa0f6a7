package io.flopex.translate;

import static io.flopex.translate.Mapping.CLIENT_MODEL;
import static io.flopex.translate.Mapping.UPSTREAM_MODEL;
import static io.flopex.translate.Mapping.array;
import static io.flopex.translate.Mapping.keys;
import static io.flopex.translate.Mapping.msg;
import static io.flopex.translate.Mapping.text;
import static org.assertj.core.api.Assertions.assertThat;

import io.flopex.config.ProviderKind;
import io.flopex.ingress.ApiError;
import io.flopex.translate.Mapping.Sent;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class MessagesRequestMappingTest {

  private static final String URL = "https://img.test/cat.png";
  private static final JsonObject SCHEMA = JsonObject.of("type", "object", "properties",
      JsonObject.of("city", JsonObject.of("type", "string")));

  static JsonObject request(JsonObject... messages) {
    return JsonObject.of("model", CLIENT_MODEL, "max_tokens", 1024,
        "messages", JsonArray.of((Object[]) messages));
  }

  static JsonObject hi() {
    return request(msg("user", "hi"));
  }

  static JsonObject base64Image() {
    return JsonObject.of("type", "image", "source",
        JsonObject.of("type", "base64", "media_type", "image/png", "data", "AAAA"));
  }

  static JsonObject urlImage() {
    return JsonObject.of("type", "image", "source", JsonObject.of("type", "url", "url", URL));
  }

  static JsonObject toolUse() {
    return JsonObject.of("type", "tool_use", "id", "tu1", "name", "weather",
        "input", JsonObject.of("city", "Oslo"));
  }

  static JsonObject toolResult() {
    return JsonObject.of("type", "tool_result", "tool_use_id", "tu1", "content", "sunny");
  }

  static JsonObject thinkingBlock(String type) {
    return type.equals("thinking")
        ? JsonObject.of("type", "thinking", "thinking", "secret plan", "signature", "c2lnbmVk")
        : JsonObject.of("type", "redacted_thinking", "data", "b3BhcXVl");
  }

  static JsonObject toolRoundTrip() {
    return request(msg("user", "weather?"), msg("assistant", array(text("Looking."), toolUse())),
        msg("user", array(toolResult(), text("thanks"))));
  }

  static JsonArray weatherTool() {
    return array(JsonObject.of("name", "weather", "description", "Weather for a city",
        "input_schema", SCHEMA));
  }

  static Sent send(ProviderKind kind, JsonObject request) {
    return Mapping.send(ClientFormat.ANTHROPIC_MESSAGES, kind, request);
  }

  @ParameterizedTest(name = "{0} drops {1} blocks with a warning")
  @MethodSource("thinkingDrops")
  void dropsThinkingBlocksWithWarning(ProviderKind kind, String type) {
    JsonObject request = request(msg("user", "2+2?"),
        msg("assistant", array(thinkingBlock(type), text("4"))), msg("user", "sure?"));

    Sent sent = send(kind, request);

    assertThat(keys(sent.body())).doesNotContain("signature", "thinking", "data");
    assertThat(sent.body().encode()).doesNotContain("secret plan", "b3BhcXVl");
    assertThat(sent.warnings()).anyMatch(w -> w.contains("thinking"));
  }

  static Stream<Arguments> thinkingDrops() {
    return Stream.of(ProviderKind.OPENAI, ProviderKind.OPENAI_COMPATIBLE, ProviderKind.GEMINI)
        .flatMap(kind -> Stream.of("thinking", "redacted_thinking")
            .map(type -> Arguments.of(kind, type)));
  }

  @ParameterizedTest
  @EnumSource(names = {"OPENAI", "OPENAI_COMPATIBLE", "GEMINI"})
  void dropsThinkingParameterWithWarning(ProviderKind kind) {
    Sent sent = send(kind, hi().put("thinking",
        JsonObject.of("type", "enabled", "budget_tokens", 512)));

    assertThat(keys(sent.body())).doesNotContain("thinking", "budget_tokens");
    assertThat(sent.warnings()).anyMatch(w -> w.contains("thinking"));
  }

  @ParameterizedTest
  @EnumSource(names = {"OPENAI", "OPENAI_COMPATIBLE", "GEMINI"})
  void dropsTopKWithWarning(ProviderKind kind) {
    Sent sent = send(kind, hi().put("top_k", 40));

    assertThat(keys(sent.body())).doesNotContain("top_k", "topK");
    assertThat(sent.warnings()).anyMatch(w -> w.contains("top_k"));
  }

  @Nested
  class ToOpenAiFormat {

    @ParameterizedTest
    @EnumSource(names = {"OPENAI", "OPENAI_COMPATIBLE"})
    void renamesModelToUpstreamModel(ProviderKind kind) {
      assertThat(send(kind, hi()).body().getString("model")).isEqualTo(UPSTREAM_MODEL);
    }

    @ParameterizedTest
    @EnumSource(names = {"OPENAI", "OPENAI_COMPATIBLE"})
    void sendsSystemAsSystemMessage(ProviderKind kind) {
      JsonObject body = send(kind, hi().put("system", "Be brief.")).body();

      assertThat(body.getJsonArray("messages").getJsonObject(0))
          .isEqualTo(msg("system", "Be brief."));
    }

    @ParameterizedTest
    @EnumSource(names = {"OPENAI", "OPENAI_COMPATIBLE"})
    void sendsTextBlocksAsTextParts(ProviderKind kind) {
      JsonObject body = send(kind, request(msg("user", array(text("hi"))))).body();

      assertThat(body.getJsonArray("messages"))
          .isEqualTo(array(msg("user", array(text("hi")))));
    }

    @ParameterizedTest
    @EnumSource(names = {"OPENAI", "OPENAI_COMPATIBLE"})
    void sendsImageBlocksAsImageUrlParts(ProviderKind kind) {
      JsonObject body = send(kind, request(msg("user", array(base64Image(), urlImage()))))
          .body();

      assertThat(body.getJsonArray("messages").getJsonObject(0).getJsonArray("content"))
          .isEqualTo(array(
              JsonObject.of("type", "image_url", "image_url",
                  JsonObject.of("url", "data:image/png;base64,AAAA")),
              JsonObject.of("type", "image_url", "image_url", JsonObject.of("url", URL))));
    }

    @ParameterizedTest
    @EnumSource(names = {"OPENAI", "OPENAI_COMPATIBLE"})
    void sendsToolUseBlocksAsToolCalls(ProviderKind kind) {
      JsonObject call = send(kind, toolRoundTrip()).body().getJsonArray("messages")
          .getJsonObject(1).getJsonArray("tool_calls").getJsonObject(0);

      assertThat(call.getString("id")).isEqualTo("tu1");
      assertThat(call.getString("type")).isEqualTo("function");
      assertThat(call.getJsonObject("function").getString("name")).isEqualTo("weather");
      assertThat(new JsonObject(call.getJsonObject("function").getString("arguments")))
          .isEqualTo(JsonObject.of("city", "Oslo"));
    }

    @ParameterizedTest
    @EnumSource(names = {"OPENAI", "OPENAI_COMPATIBLE"})
    void sendsToolResultBlocksAsToolMessagesRightAfterTheCall(ProviderKind kind) {
      JsonArray messages = send(kind, toolRoundTrip()).body().getJsonArray("messages");

      assertThat(messages.getJsonObject(1).getString("role")).isEqualTo("assistant");
      assertThat(messages.getJsonObject(2)).isEqualTo(
          JsonObject.of("role", "tool", "tool_call_id", "tu1", "content", "sunny"));
      assertThat(messages.getJsonObject(3)).isEqualTo(msg("user", array(text("thanks"))));
    }

    @Test
    void sendsMaxTokensToOpenAiAsMaxCompletionTokens() {
      JsonObject body = send(ProviderKind.OPENAI, hi()).body();
      assertThat(body.getValue("max_completion_tokens")).isEqualTo(1024);
      assertThat(body.containsKey("max_tokens")).isFalse();
    }

    @Test
    void sendsMaxTokensToOtherHostsAsMaxTokens() {
      JsonObject body = send(ProviderKind.OPENAI_COMPATIBLE, hi()).body();
      assertThat(body.getValue("max_tokens")).isEqualTo(1024);
      assertThat(body.containsKey("max_completion_tokens")).isFalse();
    }

    @ParameterizedTest
    @EnumSource(names = {"OPENAI", "OPENAI_COMPATIBLE"})
    void passesTemperatureAndTopP(ProviderKind kind) {
      JsonObject body = send(kind, hi().put("temperature", 0.3).put("top_p", 0.9)).body();

      assertThat(body.getDouble("temperature")).isEqualTo(0.3);
      assertThat(body.getDouble("top_p")).isEqualTo(0.9);
    }

    @ParameterizedTest
    @EnumSource(names = {"OPENAI", "OPENAI_COMPATIBLE"})
    void sendsStopSequencesAsStop(ProviderKind kind) {
      JsonObject body = send(kind, hi().put("stop_sequences", array("END"))).body();

      assertThat(body.getJsonArray("stop")).isEqualTo(array("END"));
      assertThat(body.containsKey("stop_sequences")).isFalse();
    }

    @ParameterizedTest
    @EnumSource(names = {"OPENAI", "OPENAI_COMPATIBLE"})
    void sendsToolsAsFunctions(ProviderKind kind) {
      JsonObject body = send(kind, hi().put("tools", weatherTool())).body();

      assertThat(body.getJsonArray("tools")).isEqualTo(array(JsonObject.of("type", "function",
          "function", JsonObject.of("name", "weather", "description", "Weather for a city",
              "parameters", SCHEMA))));
    }

    static Stream<Arguments> toolChoices() {
      return Stream.of(ProviderKind.OPENAI, ProviderKind.OPENAI_COMPATIBLE).flatMap(kind ->
          Stream.of(
              Arguments.of(kind, JsonObject.of("type", "auto"), "auto"),
              Arguments.of(kind, JsonObject.of("type", "none"), "none"),
              Arguments.of(kind, JsonObject.of("type", "any"), "required"),
              Arguments.of(kind, JsonObject.of("type", "tool", "name", "weather"),
                  JsonObject.of("type", "function", "function",
                      JsonObject.of("name", "weather")))));
    }

    @ParameterizedTest(name = "{0}: {1} -> {2}")
    @MethodSource("toolChoices")
    void sendsToolChoiceInOpenAiTerms(ProviderKind kind, JsonObject choice, Object expected) {
      JsonObject body = send(kind, hi().put("tools", weatherTool()).put("tool_choice", choice))
          .body();

      assertThat(body.getValue("tool_choice")).isEqualTo(expected);
    }

    @ParameterizedTest
    @EnumSource(names = {"OPENAI", "OPENAI_COMPATIBLE"})
    void sendsDisableParallelToolUseAsParallelToolCallsFalse(ProviderKind kind) {
      JsonObject body = send(kind, hi().put("tools", weatherTool()).put("tool_choice",
          JsonObject.of("type", "auto", "disable_parallel_tool_use", true))).body();

      assertThat(body.getValue("parallel_tool_calls")).isEqualTo(false);
    }

    @ParameterizedTest
    @EnumSource(names = {"OPENAI", "OPENAI_COMPATIBLE"})
    void sendsMetadataUserIdAsUser(ProviderKind kind) {
      JsonObject body = send(kind, hi().put("metadata", JsonObject.of("user_id", "u-1"))).body();

      assertThat(body.getString("user")).isEqualTo("u-1");
    }
  }

  @Nested
  class ToAnthropic {

    static Stream<Arguments> passedRequests() {
      Map<String, JsonObject> requests = new LinkedHashMap<>();
      requests.put("system string", hi().put("system", "Be brief."));
      requests.put("system blocks", hi().put("system", array(text("Be brief."))));
      requests.put("text blocks", request(msg("user", array(text("hi")))));
      requests.put("image blocks", request(msg("user", array(base64Image(), urlImage()))));
      requests.put("tool_use and tool_result blocks", toolRoundTrip());
      requests.put("thinking blocks", request(msg("user", "2+2?"),
          msg("assistant", array(thinkingBlock("thinking"), thinkingBlock("redacted_thinking"),
              text("4"))), msg("user", "sure?")));
      requests.put("thinking parameter",
          hi().put("thinking", JsonObject.of("type", "enabled", "budget_tokens", 512)));
      requests.put("max_tokens", hi().put("max_tokens", 77));
      requests.put("temperature and top_p", hi().put("temperature", 0.3).put("top_p", 0.9));
      requests.put("top_k", hi().put("top_k", 40));
      requests.put("stop_sequences", hi().put("stop_sequences", array("END")));
      requests.put("tools and tool_choice", hi().put("tools", weatherTool()).put("tool_choice",
          JsonObject.of("type", "any", "disable_parallel_tool_use", true)));
      requests.put("metadata.user_id", hi().put("metadata", JsonObject.of("user_id", "u-1")));
      return requests.entrySet().stream().map(e -> Arguments.of(e.getKey(), e.getValue()));
    }

    @ParameterizedTest(name = "passes {0}")
    @MethodSource("passedRequests")
    void passesFieldUnchangedWithModelRenamed(String row, JsonObject request) {
      Sent sent = send(ProviderKind.ANTHROPIC, request);

      assertThat(sent.body()).isEqualTo(request.copy().put("model", UPSTREAM_MODEL));
      assertThat(sent.warnings()).isEmpty();
    }

    @Test
    void passesThinkingBlocksByteForByte() {
      JsonObject request = request(msg("user", "2+2?"),
          msg("assistant", array(thinkingBlock("thinking"), thinkingBlock("redacted_thinking"),
              text("4"))), msg("user", "sure?"));

      JsonObject body = send(ProviderKind.ANTHROPIC, request).body();

      assertThat(body.getJsonArray("messages").encode())
          .isEqualTo(request.getJsonArray("messages").encode());
    }

    @ParameterizedTest
    @ValueSource(ints = {1024, 2048})
    void refusesThinkingBudgetAtOrAboveMaxTokensWith400(int budget) {
      ApiError error = Mapping.messagesValidation(hi().put("thinking",
          JsonObject.of("type", "enabled", "budget_tokens", budget)));

      assertThat(error).isNotNull();
      assertThat(error.status()).isEqualTo(400);
      assertThat(error.param()).isEqualTo("thinking.budget_tokens");
    }

    @Test
    void takesThinkingBudgetBelowMaxTokens() {
      assertThat(Mapping.messagesValidation(hi().put("thinking",
          JsonObject.of("type", "enabled", "budget_tokens", 1023)))).isNull();
    }
  }

  @Nested
  class ToGemini {

    private Sent send(JsonObject request) {
      return MessagesRequestMappingTest.send(ProviderKind.GEMINI, request);
    }

    private JsonObject config(JsonObject request) {
      return send(request).body().getJsonObject("generationConfig");
    }

    @Test
    void putsUpstreamModelInUrlPathNotBody() {
      assertThat(send(hi()).body().containsKey("model")).isFalse();
      assertThat(Mapping.geminiPath(UPSTREAM_MODEL, false))
          .endsWith("/models/" + UPSTREAM_MODEL + ":generateContent");
    }

    @Test
    void sendsSystemAsSystemInstruction() {
      JsonObject body = send(hi().put("system", "Be brief.")).body();

      assertThat(body.getJsonObject("systemInstruction"))
          .isEqualTo(JsonObject.of("parts", array(JsonObject.of("text", "Be brief."))));
    }

    @Test
    void sendsTextBlocksAsTextParts() {
      JsonObject body = send(request(msg("user", array(text("hi"))))).body();

      assertThat(body.getJsonArray("contents")).isEqualTo(array(
          JsonObject.of("role", "user", "parts", array(JsonObject.of("text", "hi")))));
    }

    @Test
    void sendsBase64ImageAsInlineData() {
      JsonObject body = send(request(msg("user", array(base64Image())))).body();

      assertThat(body.getJsonArray("contents").getJsonObject(0).getJsonArray("parts")
          .getJsonObject(0)).isEqualTo(JsonObject.of("inlineData",
          JsonObject.of("mimeType", "image/png", "data", "AAAA")));
    }

    @Test
    void refusesUrlImageNamingItsSource() {
      UnsupportedRequest refused = Mapping.refusal(ClientFormat.ANTHROPIC_MESSAGES,
          ProviderKind.GEMINI, request(msg("user", array(urlImage()))));

      assertThat(refused.param()).startsWith("messages[0].content[0].source");
    }

    @Test
    void sendsToolUseBlocksAsFunctionCallParts() {
      JsonObject body = send(toolRoundTrip()).body();

      assertThat(body.getJsonArray("contents").getJsonObject(1)).isEqualTo(JsonObject.of(
          "role", "model", "parts", array(JsonObject.of("text", "Looking."),
              JsonObject.of("functionCall", JsonObject.of("name", "weather",
                  "args", JsonObject.of("city", "Oslo"))))));
    }

    @Test
    void sendsToolResultBlocksAsFunctionResponseParts() {
      JsonArray parts = send(toolRoundTrip()).body().getJsonArray("contents").getJsonObject(2)
          .getJsonArray("parts");

      assertThat(parts.getJsonObject(0).getJsonObject("functionResponse").getString("name"))
          .isEqualTo("weather");
      assertThat(parts.getJsonObject(1)).isEqualTo(JsonObject.of("text", "thanks"));
    }

    @Test
    void sendsMaxTokensAsMaxOutputTokens() {
      assertThat(config(hi()).getValue("maxOutputTokens")).isEqualTo(1024);
    }

    @Test
    void sendsTemperatureAndTopP() {
      JsonObject config = config(hi().put("temperature", 0.3).put("top_p", 0.9));

      assertThat(config.getDouble("temperature")).isEqualTo(0.3);
      assertThat(config.getDouble("topP")).isEqualTo(0.9);
    }

    @Test
    void sendsStopSequencesAsStopSequences() {
      assertThat(config(hi().put("stop_sequences", array("END"))).getJsonArray("stopSequences"))
          .isEqualTo(array("END"));
    }

    @Test
    void sendsToolsAsFunctionDeclarations() {
      JsonObject body = send(hi().put("tools", weatherTool())).body();

      assertThat(body.getJsonArray("tools")).isEqualTo(array(JsonObject.of(
          "functionDeclarations", array(JsonObject.of("name", "weather",
              "description", "Weather for a city", "parametersJsonSchema", SCHEMA)))));
    }

    static Stream<Arguments> toolChoices() {
      return Stream.of(
          Arguments.of(JsonObject.of("type", "auto"), JsonObject.of("mode", "AUTO")),
          Arguments.of(JsonObject.of("type", "none"), JsonObject.of("mode", "NONE")),
          Arguments.of(JsonObject.of("type", "any"), JsonObject.of("mode", "ANY")),
          Arguments.of(JsonObject.of("type", "tool", "name", "weather"),
              JsonObject.of("mode", "ANY", "allowedFunctionNames", array("weather"))));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("toolChoices")
    void sendsToolChoiceAsFunctionCallingConfig(JsonObject choice, JsonObject expected) {
      JsonObject body = send(hi().put("tools", weatherTool()).put("tool_choice", choice)).body();

      assertThat(body.getJsonObject("toolConfig").getJsonObject("functionCallingConfig"))
          .isEqualTo(expected);
    }

    @Test
    void dropsMetadataUserIdWithWarning() {
      Sent sent = send(hi().put("metadata", JsonObject.of("user_id", "u-1")));

      assertThat(keys(sent.body())).doesNotContain("metadata", "user_id", "user");
      assertThat(sent.body().encode()).doesNotContain("u-1");
      assertThat(sent.warnings()).anyMatch(w -> w.contains("metadata.user_id"));
    }
  }
}
