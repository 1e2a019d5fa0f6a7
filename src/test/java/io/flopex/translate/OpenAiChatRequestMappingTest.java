package io.flopex.translate;

import static io.flopex.translate.Mapping.CLIENT_MODEL;
import static io.flopex.translate.Mapping.UPSTREAM_MODEL;
import static io.flopex.translate.Mapping.array;
import static io.flopex.translate.Mapping.keys;
import static io.flopex.translate.Mapping.msg;
import static io.flopex.translate.Mapping.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import io.flopex.config.ProviderKind;
import io.flopex.translate.Mapping.Sent;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class OpenAiChatRequestMappingTest {

  private static final String DATA_URL = "data:image/png;base64,AAAA";
  private static final String HTTPS_URL = "https://img.test/cat.png";
  private static final JsonObject SCHEMA = JsonObject.of("type", "object", "properties",
      JsonObject.of("city", JsonObject.of("type", "string")));

  static JsonObject chat(JsonObject... messages) {
    return JsonObject.of("model", CLIENT_MODEL, "messages", JsonArray.of((Object[]) messages));
  }

  static JsonObject hi() {
    return chat(msg("user", "hi"));
  }

  static JsonObject image(String url) {
    return JsonObject.of("type", "image_url", "image_url", JsonObject.of("url", url));
  }

  static JsonObject call(String id, String name, String arguments) {
    return JsonObject.of("id", id, "type", "function", "function",
        JsonObject.of("name", name, "arguments", arguments));
  }

  static JsonObject calling(JsonObject... calls) {
    return JsonObject.of("role", "assistant", "content", "", "tool_calls",
        JsonArray.of((Object[]) calls));
  }

  static JsonObject reply(String id, String content) {
    return JsonObject.of("role", "tool", "tool_call_id", id, "content", content);
  }

  static JsonArray weatherTool() {
    return array(JsonObject.of("type", "function", "function", JsonObject.of("name", "weather",
        "description", "Weather for a city", "parameters", SCHEMA)));
  }

  static Sent send(ProviderKind kind, JsonObject request) {
    return Mapping.send(ClientFormat.OPENAI_CHAT, kind, request);
  }

  static Sent stream(ProviderKind kind, JsonObject request) {
    return Mapping.send(ClientFormat.OPENAI_CHAT, kind, request, true);
  }

  static UnsupportedRequest refusal(ProviderKind kind, JsonObject request) {
    return Mapping.refusal(ClientFormat.OPENAI_CHAT, kind, request);
  }

  static Stream<Arguments> passedRequests() {
    Map<String, JsonObject> requests = new LinkedHashMap<>();
    requests.put("system and developer messages",
        chat(msg("system", "S"), msg("developer", "D"), msg("user", "hi")));
    requests.put("user text", chat(msg("user", array(text("hi")))));
    requests.put("data URL image", chat(msg("user", array(image(DATA_URL)))));
    requests.put("https image", chat(msg("user", array(image(HTTPS_URL)))));
    requests.put("assistant tool calls",
        chat(msg("user", "q"), calling(call("c1", "weather", "{\"city\":\"Oslo\"}"))));
    requests.put("tool message", chat(msg("user", "q"),
        calling(call("c1", "weather", "{}")), reply("c1", "sunny")));
    requests.put("temperature", hi().put("temperature", 1.5));
    requests.put("top_p", hi().put("top_p", 0.9));
    requests.put("stop", hi().put("stop", array("END")));
    requests.put("n", hi().put("n", 3));
    requests.put("tools", hi().put("tools", weatherTool()));
    requests.put("tool_choice", hi().put("tools", weatherTool()).put("tool_choice", "required"));
    requests.put("parallel_tool_calls", hi().put("parallel_tool_calls", false));
    requests.put("response_format",
        hi().put("response_format", JsonObject.of("type", "json_object")));
    requests.put("seed", hi().put("seed", 7));
    requests.put("presence_penalty", hi().put("presence_penalty", 0.5));
    requests.put("frequency_penalty", hi().put("frequency_penalty", 0.5));
    requests.put("user", hi().put("user", "u-1"));
    requests.put("logprobs", hi().put("logprobs", true));
    requests.put("logit_bias", hi().put("logit_bias", JsonObject.of("50256", -100)));
    requests.put("top_logprobs", hi().put("logprobs", true).put("top_logprobs", 2));
    requests.put("reasoning_effort", hi().put("reasoning_effort", "low"));
    requests.put("metadata", hi().put("metadata", JsonObject.of("tag", "a")));
    requests.put("store", hi().put("store", true));
    requests.put("service_tier", hi().put("service_tier", "flex"));
    return Stream.of(ProviderKind.OPENAI, ProviderKind.OPENAI_COMPATIBLE)
        .flatMap(kind -> requests.entrySet().stream()
            .map(e -> Arguments.of(kind, e.getKey(), e.getValue())));
  }

  static Stream<Arguments> droppedFields() {
    Map<String, Object> samples = new LinkedHashMap<>();
    samples.put("response_format", JsonObject.of("type", "json_object"));
    samples.put("seed", 7);
    samples.put("presence_penalty", 0.5);
    samples.put("frequency_penalty", 0.5);
    samples.put("user", "u-1");
    samples.put("parallel_tool_calls", false);
    samples.put("logprobs", true);
    samples.put("logit_bias", JsonObject.of("50256", -100));
    samples.put("top_logprobs", 2);
    samples.put("reasoning_effort", "low");
    samples.put("metadata", JsonObject.of("tag", "a"));
    samples.put("store", true);
    samples.put("service_tier", "flex");
    List<String> anthropic = List.of("response_format", "seed", "presence_penalty",
        "frequency_penalty", "logprobs", "logit_bias", "top_logprobs", "reasoning_effort",
        "metadata", "store", "service_tier");
    List<String> gemini = List.of("parallel_tool_calls", "user", "logprobs", "logit_bias",
        "top_logprobs", "reasoning_effort", "metadata", "store", "service_tier");
    return Stream.concat(
        anthropic.stream().map(f -> Arguments.of(ProviderKind.ANTHROPIC, f, samples.get(f))),
        gemini.stream().map(f -> Arguments.of(ProviderKind.GEMINI, f, samples.get(f))));
  }

  @ParameterizedTest(name = "{0}: max_completion_tokens={1}, max_tokens={2} -> {3}={4}")
  @CsvSource({
      "OPENAI, 100, , max_completion_tokens, 100",
      "OPENAI, , 100, max_completion_tokens, 100",
      "OPENAI, 100, 200, max_completion_tokens, 100",
      "OPENAI_COMPATIBLE, 100, , max_tokens, 100",
      "OPENAI_COMPATIBLE, , 100, max_tokens, 100",
      "OPENAI_COMPATIBLE, 100, 200, max_tokens, 100"})
  void openAiFormatGetsOneLimitUnderItsOwnName(ProviderKind kind, Integer completion,
      Integer max, String field, long expected) {
    JsonObject request = hi();
    if (completion != null) {
      request.put("max_completion_tokens", completion);
    }
    if (max != null) {
      request.put("max_tokens", max);
    }

    JsonObject body = send(kind, request).body();

    assertThat(body.getLong(field)).isEqualTo(expected);
    String other = field.equals("max_tokens") ? "max_completion_tokens" : "max_tokens";
    assertThat(body.containsKey(other)).isFalse();
  }

  @ParameterizedTest(name = "{0} passes {1} unchanged")
  @MethodSource("passedRequests")
  void openAiFormatPassesFieldUnchangedWithModelRenamed(ProviderKind kind, String row,
      JsonObject request) {
    Sent sent = send(kind, request);

    assertThat(sent.body()).isEqualTo(request.copy().put("model", UPSTREAM_MODEL));
    assertThat(sent.warnings()).isEmpty();
  }

  @ParameterizedTest(name = "{0} drops {1} with a warning")
  @MethodSource("droppedFields")
  void dropsFieldWithWarning(ProviderKind kind, String field, Object value) {
    Sent sent = send(kind, hi().put(field, value));

    assertThat(keys(sent.body())).doesNotContain(field);
    assertThat(sent.warnings()).anyMatch(w -> w.contains(field));
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
    void streamAlwaysAsksForUsage(ProviderKind kind) {
      JsonObject request = hi().put("stream", true)
          .put("stream_options", JsonObject.of("include_usage", false));

      JsonObject body = stream(kind, request).body();
      JsonObject bare = stream(kind, hi().put("stream", true)).body();

      assertThat(body.getBoolean("stream")).isTrue();
      assertThat(body.getJsonObject("stream_options").getBoolean("include_usage")).isTrue();
      assertThat(bare.getJsonObject("stream_options").getBoolean("include_usage")).isTrue();
    }
  }

  @Nested
  class ToAnthropic {

    private Sent send(JsonObject request) {
      return OpenAiChatRequestMappingTest.send(ProviderKind.ANTHROPIC, request);
    }

    @Test
    void renamesModelToUpstreamModel() {
      assertThat(send(hi()).body().getString("model")).isEqualTo(UPSTREAM_MODEL);
    }

    @Test
    void collectsSystemAndDeveloperMessagesAsTopLevelSystemBlocksInOrder() {
      JsonObject body = send(chat(msg("system", "A"), msg("user", "hi"), msg("developer", "B"),
          msg("assistant", "ok"), msg("system", array(text("C"))))).body();

      assertThat(body.getJsonArray("system")).isEqualTo(array(text("A"), text("B"), text("C")));
      assertThat(body.getJsonArray("messages").stream()
          .map(m -> ((JsonObject) m).getString("role"))).containsExactly("user", "assistant");
    }

    @Test
    void sendsUserTextAsTextBlocksAndNeverEmptyText() {
      JsonObject body = send(chat(msg("user", ""),
          msg("user", array(text(""), text("hi"))))).body();

      assertThat(body.getJsonArray("messages"))
          .isEqualTo(array(msg("user", array(text("hi")))));
    }

    @Test
    void sendsDataUrlImageAsBase64ImageBlock() {
      JsonObject body = send(chat(msg("user", array(image(DATA_URL))))).body();

      assertThat(firstBlock(body)).isEqualTo(JsonObject.of("type", "image", "source",
          JsonObject.of("type", "base64", "media_type", "image/png", "data", "AAAA")));
    }

    @Test
    void sendsHttpsImageAsUrlImageBlock() {
      JsonObject body = send(chat(msg("user", array(image(HTTPS_URL))))).body();

      assertThat(firstBlock(body)).isEqualTo(JsonObject.of("type", "image", "source",
          JsonObject.of("type", "url", "url", HTTPS_URL)));
    }

    private JsonObject firstBlock(JsonObject body) {
      return body.getJsonArray("messages").getJsonObject(0).getJsonArray("content")
          .getJsonObject(0);
    }

    @Test
    void sendsToolCallsAsToolUseBlocksAndDropsEmptyText() {
      JsonObject body = send(chat(msg("user", "q"),
          calling(call("c1", "weather", "{\"city\":\"Oslo\"}")))).body();

      assertThat(body.getJsonArray("messages").getJsonObject(1)).isEqualTo(msg("assistant",
          array(JsonObject.of("type", "tool_use", "id", "c1", "name", "weather", "input",
              JsonObject.of("city", "Oslo")))));
    }

    @Test
    void sendsToolRepliesAsToolResultBlocksMergedIntoOneUserTurn() {
      JsonObject body = send(chat(msg("user", "q"),
          calling(call("c1", "weather", "{}"), call("c2", "weather", "{}")),
          reply("c1", "sunny"), reply("c2", "rain"), msg("user", "thanks"))).body();

      JsonArray messages = body.getJsonArray("messages");
      assertThat(messages).hasSize(3);
      assertThat(messages.getJsonObject(2)).isEqualTo(msg("user", array(
          JsonObject.of("type", "tool_result", "tool_use_id", "c1", "content", "sunny"),
          JsonObject.of("type", "tool_result", "tool_use_id", "c2", "content", "rain"),
          text("thanks"))));
    }

    @ParameterizedTest(name = "max_completion_tokens={0}, max_tokens={1} -> {2}")
    @CsvSource({"100, 200, 100", ", 200, 200", "100, , 100", ", , 4096"})
    void sendsOneMaxTokensPreferringMaxCompletionTokens(Integer completion, Integer max,
        long expected) {
      JsonObject request = hi();
      if (completion != null) {
        request.put("max_completion_tokens", completion);
      }
      if (max != null) {
        request.put("max_tokens", max);
      }

      JsonObject body = send(request).body();

      assertThat(body.getLong("max_tokens")).isEqualTo(expected);
      assertThat(body.containsKey("max_completion_tokens")).isFalse();
    }

    @Test
    void passesTemperatureUpToOne() {
      Sent sent = send(hi().put("temperature", 0.5));

      assertThat(sent.body().getDouble("temperature")).isEqualTo(0.5);
      assertThat(sent.warnings()).isEmpty();
    }

    @Test
    void lowersTemperatureAboveOneToOneWithWarning() {
      Sent sent = send(hi().put("temperature", 1.5));

      assertThat(sent.body().getDouble("temperature")).isEqualTo(1.0);
      assertThat(sent.warnings()).anyMatch(w -> w.contains("temperature"));
    }

    @Test
    void passesTopP() {
      assertThat(send(hi().put("top_p", 0.9)).body().getDouble("top_p")).isEqualTo(0.9);
    }

    @Test
    void sendsStopAsStopSequences() {
      JsonObject single = send(hi().put("stop", "END")).body();
      JsonObject several = send(hi().put("stop", array("A", "B"))).body();

      assertThat(single.getJsonArray("stop_sequences")).isEqualTo(array("END"));
      assertThat(several.getJsonArray("stop_sequences")).isEqualTo(array("A", "B"));
      assertThat(single.containsKey("stop")).isFalse();
    }

    @Test
    void refusesNAboveOne() {
      assertThat(refusal(ProviderKind.ANTHROPIC, hi().put("n", 2)).param()).isEqualTo("n");
    }

    @Test
    void takesNOfOne() {
      assertThatCode(() -> send(hi().put("n", 1))).doesNotThrowAnyException();
    }

    @Test
    void sendsFunctionToolsWithInputSchema() {
      JsonObject body = send(hi().put("tools", weatherTool())).body();

      assertThat(body.getJsonArray("tools")).isEqualTo(array(JsonObject.of("name", "weather",
          "description", "Weather for a city", "input_schema", SCHEMA)));
    }

    static Stream<Arguments> toolChoices() {
      return Stream.of(
          Arguments.of("auto", JsonObject.of("type", "auto")),
          Arguments.of("none", JsonObject.of("type", "none")),
          Arguments.of("required", JsonObject.of("type", "any")),
          Arguments.of(JsonObject.of("type", "function", "function",
              JsonObject.of("name", "weather")),
              JsonObject.of("type", "tool", "name", "weather")));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("toolChoices")
    void sendsToolChoiceInAnthropicTerms(Object choice, JsonObject expected) {
      JsonObject body = send(hi().put("tools", weatherTool()).put("tool_choice", choice)).body();

      assertThat(body.getJsonObject("tool_choice")).isEqualTo(expected);
    }

    @Test
    void sendsParallelToolCallsFalseAsDisableParallelToolUse() {
      JsonObject body = send(hi().put("tools", weatherTool()).put("parallel_tool_calls", false))
          .body();

      assertThat(body.getJsonObject("tool_choice").getBoolean("disable_parallel_tool_use"))
          .isTrue();
      assertThat(body.containsKey("parallel_tool_calls")).isFalse();
    }

    @Test
    void sendsUserAsMetadataUserId() {
      JsonObject body = send(hi().put("user", "u-1")).body();

      assertThat(body.getJsonObject("metadata")).isEqualTo(JsonObject.of("user_id", "u-1"));
      assertThat(body.containsKey("user")).isFalse();
    }

    @Test
    void sendsStreamAsStreamTrue() {
      JsonObject body = stream(ProviderKind.ANTHROPIC, hi().put("stream", true)
          .put("stream_options", JsonObject.of("include_usage", true))).body();

      assertThat(body.getBoolean("stream")).isTrue();
      assertThat(body.containsKey("stream_options")).isFalse();
    }
  }

  @Nested
  class ToGemini {

    private Sent send(JsonObject request) {
      return OpenAiChatRequestMappingTest.send(ProviderKind.GEMINI, request);
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
    void sendsSystemAndDeveloperMessagesAsSystemInstructionParts() {
      JsonObject body = send(chat(msg("system", "A"), msg("user", "hi"),
          msg("developer", "B"))).body();

      assertThat(body.getJsonObject("systemInstruction").getJsonArray("parts"))
          .isEqualTo(array(JsonObject.of("text", "A"), JsonObject.of("text", "B")));
      assertThat(body.getJsonArray("contents")).hasSize(1);
    }

    @Test
    void sendsUserTextAsTextParts() {
      JsonObject body = send(chat(msg("user", array(text("hi"))))).body();

      assertThat(body.getJsonArray("contents")).isEqualTo(array(
          JsonObject.of("role", "user", "parts", array(JsonObject.of("text", "hi")))));
    }

    @Test
    void sendsDataUrlImageAsInlineData() {
      JsonObject body = send(chat(msg("user", array(image(DATA_URL))))).body();

      assertThat(body.getJsonArray("contents").getJsonObject(0).getJsonArray("parts")
          .getJsonObject(0)).isEqualTo(JsonObject.of("inlineData",
          JsonObject.of("mimeType", "image/png", "data", "AAAA")));
    }

    @Test
    void refusesHttpsImage() {
      UnsupportedRequest refused = refusal(ProviderKind.GEMINI,
          chat(msg("user", array(image(HTTPS_URL)))));

      assertThat(refused.param()).startsWith("messages[0].content[0].image_url");
    }

    @Test
    void sendsToolCallsAsFunctionCallParts() {
      JsonObject body = send(chat(msg("user", "q"),
          calling(call("c1", "weather", "{\"city\":\"Oslo\"}")))).body();

      assertThat(body.getJsonArray("contents").getJsonObject(1)).isEqualTo(JsonObject.of(
          "role", "model", "parts", array(JsonObject.of("functionCall",
              JsonObject.of("name", "weather", "args", JsonObject.of("city", "Oslo"))))));
    }

    @Test
    void sendsToolReplyAsFunctionResponseNamedAfterItsCall() {
      JsonObject body = send(chat(msg("user", "q"), calling(call("c1", "weather", "{}")),
          reply("c1", "sunny"))).body();

      JsonObject turn = body.getJsonArray("contents").getJsonObject(2);
      assertThat(turn.getString("role")).isEqualTo("user");
      assertThat(turn.getJsonArray("parts").getJsonObject(0).getJsonObject("functionResponse")
          .getString("name")).isEqualTo("weather");
    }

    @ParameterizedTest(name = "max_completion_tokens={0}, max_tokens={1} -> {2}")
    @CsvSource({"100, 200, 100", ", 200, 200", "100, , 100"})
    void sendsMaxOutputTokensPreferringMaxCompletionTokens(Integer completion, Integer max,
        long expected) {
      JsonObject request = hi();
      if (completion != null) {
        request.put("max_completion_tokens", completion);
      }
      if (max != null) {
        request.put("max_tokens", max);
      }

      assertThat(config(request).getLong("maxOutputTokens")).isEqualTo(expected);
    }

    static Stream<Arguments> generationFields() {
      return Stream.of(
          Arguments.of("temperature", 0.7, "temperature"),
          Arguments.of("top_p", 0.9, "topP"),
          Arguments.of("seed", 7, "seed"),
          Arguments.of("presence_penalty", 0.5, "presencePenalty"),
          Arguments.of("frequency_penalty", 0.25, "frequencyPenalty"),
          Arguments.of("n", 3, "candidateCount"));
    }

    @ParameterizedTest(name = "{0} -> generationConfig.{2}")
    @MethodSource("generationFields")
    void sendsSamplingFieldInGenerationConfig(String field, Object value, String geminiName) {
      Sent sent = send(hi().put(field, value));

      assertThat(sent.body().getJsonObject("generationConfig").getValue(geminiName))
          .isEqualTo(value);
      assertThat(sent.body().containsKey(field)).isFalse();
      assertThat(sent.warnings()).isEmpty();
    }

    @Test
    void sendsStopAsStopSequences() {
      assertThat(config(hi().put("stop", "END")).getJsonArray("stopSequences"))
          .isEqualTo(array("END"));
      assertThat(config(hi().put("stop", array("A", "B"))).getJsonArray("stopSequences"))
          .isEqualTo(array("A", "B"));
    }

    @Test
    void sendsToolsAsFunctionDeclarationsWithParametersJsonSchema() {
      JsonObject body = send(hi().put("tools", weatherTool())).body();

      assertThat(body.getJsonArray("tools")).isEqualTo(array(JsonObject.of(
          "functionDeclarations", array(JsonObject.of("name", "weather",
              "description", "Weather for a city", "parametersJsonSchema", SCHEMA)))));
    }

    static Stream<Arguments> toolChoices() {
      return Stream.of(
          Arguments.of("auto", JsonObject.of("mode", "AUTO")),
          Arguments.of("none", JsonObject.of("mode", "NONE")),
          Arguments.of("required", JsonObject.of("mode", "ANY")),
          Arguments.of(JsonObject.of("type", "function", "function",
              JsonObject.of("name", "weather")),
              JsonObject.of("mode", "ANY", "allowedFunctionNames", array("weather"))));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("toolChoices")
    void sendsToolChoiceAsFunctionCallingConfig(Object choice, JsonObject expected) {
      JsonObject body = send(hi().put("tools", weatherTool()).put("tool_choice", choice)).body();

      assertThat(body.getJsonObject("toolConfig").getJsonObject("functionCallingConfig"))
          .isEqualTo(expected);
    }

    @Test
    void sendsJsonObjectResponseFormatAsResponseMimeType() {
      JsonObject config = config(hi().put("response_format",
          JsonObject.of("type", "json_object")));

      assertThat(config.getString("responseMimeType")).isEqualTo("application/json");
    }

    @Test
    void sendsJsonSchemaResponseFormatAsResponseJsonSchema() {
      JsonObject config = config(hi().put("response_format", JsonObject.of("type",
          "json_schema", "json_schema", JsonObject.of("name", "city", "schema", SCHEMA))));

      assertThat(config.getJsonObject("responseJsonSchema")).isEqualTo(SCHEMA);
    }

    @Test
    void streamsFromStreamGenerateContentWithSse() {
      JsonObject body = stream(ProviderKind.GEMINI, hi().put("stream", true)
          .put("stream_options", JsonObject.of("include_usage", true))).body();

      assertThat(Mapping.geminiPath(UPSTREAM_MODEL, true))
          .endsWith("/models/" + UPSTREAM_MODEL + ":streamGenerateContent?alt=sse");
      assertThat(keys(body)).doesNotContain("stream", "stream_options");
    }
  }
}
