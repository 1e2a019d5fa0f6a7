package io.flopex.translate;

import static io.flopex.translate.Mapping.CLIENT_MODEL;
import static io.flopex.translate.Mapping.array;
import static io.flopex.translate.Mapping.keys;
import static io.flopex.translate.Mapping.text;
import static org.assertj.core.api.Assertions.assertThat;

import io.flopex.bus.Usage;
import io.flopex.config.ProviderKind;
import io.flopex.translate.Translator.StreamContext;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
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

class AnswerMappingTest {

  static Translated chatAnswer(ProviderKind kind, JsonObject upstream) {
    return Mapping.answer(ClientFormat.OPENAI_CHAT, kind, upstream);
  }

  static Translated messagesAnswer(ProviderKind kind, JsonObject upstream) {
    return Mapping.answer(ClientFormat.ANTHROPIC_MESSAGES, kind, upstream);
  }

  static JsonObject choice(Translated answer) {
    return answer.body().getJsonArray("choices").getJsonObject(0);
  }

  static JsonObject message(Translated answer) {
    return choice(answer).getJsonObject("message");
  }

  static JsonObject completion(JsonObject message, String finishReason) {
    return JsonObject.of("id", "chatcmpl-1", "object", "chat.completion", "created", 1,
        "model", "upstream-model", "choices", array(JsonObject.of("index", 0,
            "message", message, "finish_reason", finishReason)));
  }

  static JsonObject anthropic(JsonArray content, String stopReason) {
    return JsonObject.of("id", "msg_1", "type", "message", "role", "assistant",
        "model", "upstream-model", "content", content, "stop_reason", stopReason,
        "usage", JsonObject.of("input_tokens", 10, "output_tokens", 5));
  }

  static JsonObject gemini(JsonArray parts, String finishReason) {
    return JsonObject.of("candidates", array(JsonObject.of("content",
        JsonObject.of("role", "model", "parts", parts), "finishReason", finishReason,
        "index", 0)));
  }

  static JsonObject openAiToolCall() {
    return JsonObject.of("id", "call_9", "type", "function", "function",
        JsonObject.of("name", "weather", "arguments", "{\"city\":\"Oslo\"}"));
  }

  static JsonObject openAiUsage() {
    return JsonObject.of("prompt_tokens", 12, "completion_tokens", 5, "total_tokens", 17,
        "prompt_tokens_details", JsonObject.of("cached_tokens", 4),
        "completion_tokens_details", JsonObject.of("reasoning_tokens", 2));
  }

  @Nested
  class FromOpenAiFormat {

    static Stream<Arguments> answers() {
      Map<String, JsonObject> answers = new LinkedHashMap<>();
      answers.put("text",
          completion(JsonObject.of("role", "assistant", "content", "Hello"), "stop"));
      answers.put("tool calls", completion(JsonObject.of("role", "assistant",
          "tool_calls", array(openAiToolCall())), "tool_calls"));
      answers.put("finish_reason length",
          completion(JsonObject.of("role", "assistant", "content", "Hel"), "length"));
      answers.put("finish_reason content_filter",
          completion(JsonObject.of("role", "assistant", "content", ""), "content_filter"));
      answers.put("unknown finish reason",
          completion(JsonObject.of("role", "assistant", "content", "x"), "eos_token"));
      answers.put("usage", completion(JsonObject.of("role", "assistant", "content", "Hi"),
          "stop").put("usage", openAiUsage()));
      answers.put("reasoning fields", completion(JsonObject.of("role", "assistant",
          "content", "4", "reasoning_content", "2+2 is 4", "reasoning", "2+2 is 4"), "stop"));
      return Stream.of(ProviderKind.OPENAI, ProviderKind.OPENAI_COMPATIBLE)
          .flatMap(kind -> answers.entrySet().stream()
              .map(e -> Arguments.of(kind, e.getKey(), e.getValue())));
    }

    @ParameterizedTest(name = "{0} passes {1}")
    @MethodSource("answers")
    void passesAnswerWithModelRenamed(ProviderKind kind, String row, JsonObject upstream) {
      Translated answer = chatAnswer(kind, upstream);

      assertThat(answer.body()).isEqualTo(upstream.copy().put("model", CLIENT_MODEL));
    }

    @ParameterizedTest
    @EnumSource(names = {"OPENAI", "OPENAI_COMPATIBLE"})
    void readsUsageAsReported(ProviderKind kind) {
      JsonObject upstream = completion(JsonObject.of("role", "assistant", "content", "Hi"),
          "stop").put("usage", openAiUsage());

      Translated answer = chatAnswer(kind, upstream);

      assertThat(answer.usage()).isEqualTo(new Usage(12, 5, 4, 2, false));
    }
  }

  @Nested
  class FromAnthropic {

    private Translated answer(JsonObject upstream) {
      return chatAnswer(ProviderKind.ANTHROPIC, upstream);
    }

    @Test
    void joinsTextBlocks() {
      Translated answer = answer(anthropic(array(text("Hel"), text("lo")), "end_turn"));

      assertThat(message(answer).getString("content")).isEqualTo("Hello");
    }

    @Test
    void sendsToolUseBlocksAsToolCallsWithInputAsArguments() {
      JsonObject input = JsonObject.of("city", "Oslo", "days", 3);
      Translated answer = answer(anthropic(array(JsonObject.of("type", "tool_use",
          "id", "toolu_1", "name", "weather", "input", input)), "tool_use"));

      JsonObject call = message(answer).getJsonArray("tool_calls").getJsonObject(0);
      assertThat(call.getString("id")).isEqualTo("toolu_1");
      assertThat(call.getString("type")).isEqualTo("function");
      assertThat(call.getJsonObject("function").getString("name")).isEqualTo("weather");
      assertThat(new JsonObject(call.getJsonObject("function").getString("arguments")))
          .isEqualTo(input);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({"end_turn, stop", "stop_sequence, stop", "max_tokens, length",
        "tool_use, tool_calls", "refusal, content_filter"})
    void mapsStopReasonToFinishReason(String stopReason, String finishReason) {
      Translated answer = answer(anthropic(array(text("x")), stopReason));

      assertThat(choice(answer).getString("finish_reason")).isEqualTo(finishReason);
    }

    @Test
    void mapsUnknownStopReasonToStop() {
      Translated answer = answer(anthropic(array(text("x")), "some_new_reason"));

      assertThat(choice(answer).getString("finish_reason")).isEqualTo("stop");
    }

    @Test
    void countsCacheReadsAndWritesAsPromptTokens() {
      JsonObject upstream = anthropic(array(text("x")), "end_turn").put("usage", JsonObject.of(
          "input_tokens", 10, "cache_read_input_tokens", 5, "cache_creation_input_tokens", 3,
          "output_tokens", 7));

      Translated answer = answer(upstream);

      assertThat(answer.body().getJsonObject("usage")).isEqualTo(JsonObject.of(
          "prompt_tokens", 18, "completion_tokens", 7, "total_tokens", 25,
          "prompt_tokens_details", JsonObject.of("cached_tokens", 5, "cache_write_tokens", 3),
          "completion_tokens_details", JsonObject.of("reasoning_tokens", 0)));
      assertThat(answer.usage()).isEqualTo(new Usage(18, 7, 5, 3, 0, false));
    }

    @Test
    void dropsThinking() {
      Translated answer = answer(anthropic(array(
          JsonObject.of("type", "thinking", "thinking", "secret plan", "signature", "c2ln"),
          JsonObject.of("type", "redacted_thinking", "data", "b3BhcXVl"), text("4")),
          "end_turn"));

      assertThat(message(answer).getString("content")).isEqualTo("4");
      assertThat(answer.body().encode()).doesNotContain("secret plan", "c2ln", "b3BhcXVl");
    }
  }

  @Nested
  class FromGemini {

    private Translated answer(JsonObject upstream) {
      return chatAnswer(ProviderKind.GEMINI, upstream);
    }

    private static JsonObject call(String name) {
      return JsonObject.of("functionCall",
          JsonObject.of("name", name, "args", JsonObject.of("city", "Oslo")));
    }

    @Test
    void joinsTextPartsLeavingOutThoughts() {
      Translated answer = answer(gemini(array(
          JsonObject.of("text", "secret plan", "thought", true),
          JsonObject.of("text", "Hel"), JsonObject.of("text", "lo")), "STOP"));

      assertThat(message(answer).getString("content")).isEqualTo("Hello");
      assertThat(answer.body().encode()).doesNotContain("secret plan");
    }

    @Test
    void sendsFunctionCallPartsAsToolCallsWithMadeUpIds() {
      Translated answer = answer(gemini(array(call("weather"), call("time")), "STOP"));

      JsonArray calls = message(answer).getJsonArray("tool_calls");
      List<String> ids = calls.stream().map(c -> ((JsonObject) c).getString("id")).toList();
      assertThat(ids).hasSize(2).doesNotHaveDuplicates().allMatch(id -> id.startsWith("call_"));
      Translated again = answer(gemini(array(call("weather")), "STOP"));
      assertThat(message(again).getJsonArray("tool_calls").getJsonObject(0).getString("id"))
          .isNotIn(ids);
      JsonObject function = calls.getJsonObject(0).getJsonObject("function");
      assertThat(function.getString("name")).isEqualTo("weather");
      assertThat(new JsonObject(function.getString("arguments")))
          .isEqualTo(JsonObject.of("city", "Oslo"));
    }

    @Test
    void keepsFunctionCallIdWhenGeminiGivesOne() {
      JsonObject part = call("weather");
      part.getJsonObject("functionCall").put("id", "fc-7");

      Translated answer = answer(gemini(array(part), "STOP"));

      assertThat(message(answer).getJsonArray("tool_calls").getJsonObject(0).getString("id"))
          .isEqualTo("fc-7");
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({"STOP, stop", "MAX_TOKENS, length", "SAFETY, content_filter",
        "RECITATION, content_filter", "BLOCKLIST, content_filter",
        "PROHIBITED_CONTENT, content_filter", "SPII, content_filter"})
    void mapsFinishReason(String geminiReason, String finishReason) {
      Translated answer = answer(gemini(array(JsonObject.of("text", "x")), geminiReason));

      assertThat(choice(answer).getString("finish_reason")).isEqualTo(finishReason);
    }

    @Test
    void mapsStopAfterFunctionCallToToolCalls() {
      Translated answer = answer(gemini(array(call("weather")), "STOP"));

      assertThat(choice(answer).getString("finish_reason")).isEqualTo("tool_calls");
    }

    @Test
    void mapsUnknownFinishReasonToStop() {
      Translated answer = answer(gemini(array(JsonObject.of("text", "x")), "SOME_NEW_REASON"));

      assertThat(choice(answer).getString("finish_reason")).isEqualTo("stop");
    }

    @Test
    void countsThoughtsAsReasoningCompletionTokens() {
      JsonObject upstream = gemini(array(JsonObject.of("text", "x")), "STOP")
          .put("usageMetadata", JsonObject.of("promptTokenCount", 20,
              "candidatesTokenCount", 8, "thoughtsTokenCount", 4,
              "cachedContentTokenCount", 6, "totalTokenCount", 32));

      Translated answer = answer(upstream);

      assertThat(answer.body().getJsonObject("usage")).isEqualTo(JsonObject.of(
          "prompt_tokens", 20, "completion_tokens", 12, "total_tokens", 32,
          "prompt_tokens_details", JsonObject.of("cached_tokens", 6),
          "completion_tokens_details", JsonObject.of("reasoning_tokens", 4)));
      assertThat(answer.usage()).isEqualTo(new Usage(20, 12, 6, 0, 4, false));
    }

    @Test
    void givesEachCandidateItsOwnChoice() {
      JsonObject upstream = JsonObject.of("candidates", array(
          JsonObject.of("content", JsonObject.of("role", "model",
              "parts", array(JsonObject.of("text", "A"))), "finishReason", "STOP", "index", 0),
          JsonObject.of("content", JsonObject.of("role", "model",
              "parts", array(JsonObject.of("text", "B"))), "finishReason", "STOP", "index", 1)));

      JsonArray choices = answer(upstream).body().getJsonArray("choices");

      assertThat(choices.stream().map(c -> ((JsonObject) c).getInteger("index")))
          .containsExactly(0, 1);
      assertThat(choices.stream()
          .map(c -> ((JsonObject) c).getJsonObject("message").getString("content")))
          .containsExactly("A", "B");
    }
  }

  @Nested
  class ForMessagesClient {

    @ParameterizedTest(name = "{0}: {1} -> {2}")
    @CsvSource({"OPENAI, stop, end_turn", "OPENAI, length, max_tokens",
        "OPENAI, tool_calls, tool_use", "OPENAI, content_filter, refusal",
        "OPENAI_COMPATIBLE, stop, end_turn", "OPENAI_COMPATIBLE, length, max_tokens",
        "OPENAI_COMPATIBLE, tool_calls, tool_use", "OPENAI_COMPATIBLE, content_filter, refusal"})
    void mapsOpenAiFinishReasonBackToStopReason(ProviderKind kind, String finishReason,
        String stopReason) {
      Translated answer = messagesAnswer(kind,
          completion(JsonObject.of("role", "assistant", "content", "x"), finishReason));

      assertThat(answer.body().getString("stop_reason")).isEqualTo(stopReason);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({"STOP, end_turn", "MAX_TOKENS, max_tokens", "SAFETY, refusal"})
    void mapsGeminiFinishReasonToStopReason(String geminiReason, String stopReason) {
      Translated answer = messagesAnswer(ProviderKind.GEMINI,
          gemini(array(JsonObject.of("text", "x")), geminiReason));

      assertThat(answer.body().getString("stop_reason")).isEqualTo(stopReason);
    }

    @ParameterizedTest
    @EnumSource(names = {"OPENAI", "OPENAI_COMPATIBLE"})
    void answersAsAnthropicMessageWithTextAndToolUseBlocks(ProviderKind kind) {
      Translated answer = messagesAnswer(kind, completion(JsonObject.of("role", "assistant",
          "content", "Checking.", "tool_calls", array(openAiToolCall())), "tool_calls")
          .put("usage", openAiUsage()));

      JsonObject body = answer.body();
      assertThat(body.getString("type")).isEqualTo("message");
      assertThat(body.getString("role")).isEqualTo("assistant");
      assertThat(body.getString("model")).isEqualTo(CLIENT_MODEL);
      assertThat(body.getJsonArray("content")).isEqualTo(array(text("Checking."),
          JsonObject.of("type", "tool_use", "id", "call_9", "name", "weather",
              "input", JsonObject.of("city", "Oslo"))));
      assertThat(body.getJsonObject("usage").getLong("output_tokens")).isEqualTo(5);
    }

    @Test
    void answersGeminiThoughtsNeitherAsTextNorAsThinking() {
      Translated answer = messagesAnswer(ProviderKind.GEMINI, gemini(array(
          JsonObject.of("text", "secret plan", "thought", true), JsonObject.of("text", "4")),
          "STOP"));

      assertThat(answer.body().getJsonArray("content")).isEqualTo(array(text("4")));
    }

    @ParameterizedTest
    @EnumSource(names = {"OPENAI", "OPENAI_COMPATIBLE"})
    void streamsAsAnthropicEvents(ProviderKind kind) {
      StreamTranslator stream = Translators.forPair(ClientFormat.ANTHROPIC_MESSAGES, kind)
          .stream(new StreamContext("s1", CLIENT_MODEL, false));
      List<ClientEvent> events = new ArrayList<>();
      for (JsonObject chunk : List.of(
          delta(JsonObject.of("role", "assistant", "content", "Hel")),
          delta(JsonObject.of("content", "lo")),
          delta(JsonObject.of("tool_calls", array(JsonObject.of("index", 0, "id", "call_9",
              "type", "function", "function", JsonObject.of("name", "weather",
                  "arguments", "{}"))))),
          finish("tool_calls"))) {
        events.addAll(stream.accept(null, chunk));
      }
      events.addAll(stream.end(new Usage(12, 5, 0, 0, false)));

      assertThat(events.stream().map(ClientEvent::name)).containsExactly("message_start",
          "content_block_start", "content_block_delta", "content_block_delta",
          "content_block_stop", "content_block_start", "content_block_delta",
          "content_block_stop", "message_delta", "message_stop");
      JsonObject messageDelta = events.get(8).data();
      assertThat(messageDelta.getJsonObject("delta").getString("stop_reason"))
          .isEqualTo("tool_use");
      assertThat(messageDelta.getJsonObject("usage").getLong("output_tokens")).isEqualTo(5);
      assertThat(keys(events.get(0).data())).contains("message");
    }

    private static JsonObject delta(JsonObject delta) {
      return JsonObject.of("id", "chatcmpl-1", "object", "chat.completion.chunk",
          "choices", array(JsonObject.of("index", 0, "delta", delta)));
    }

    private static JsonObject finish(String reason) {
      return JsonObject.of("id", "chatcmpl-1", "object", "chat.completion.chunk",
          "choices", array(JsonObject.of("index", 0, "delta", new JsonObject(),
              "finish_reason", reason)));
    }
  }
}
