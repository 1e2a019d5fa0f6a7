package io.flopex.translate;

import static io.flopex.translate.Mapping.array;
import static io.flopex.translate.Mapping.msg;
import static io.flopex.translate.Mapping.text;
import static org.assertj.core.api.Assertions.assertThat;

import io.flopex.config.ProviderKind;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/** The compatibility rows for legacy fields, history oddities and Gemini's rarer finishes. */
class LaterMappingTest {

  private static JsonObject chat(JsonObject... messages) {
    return new JsonObject().put("model", Mapping.CLIENT_MODEL).put("messages", array(
        (Object[]) messages));
  }

  @ParameterizedTest
  @EnumSource(names = {"ANTHROPIC", "GEMINI"})
  void legacyFunctionsAreDroppedWithAWarning(ProviderKind kind) {
    JsonObject request = chat(msg("user", "hi"))
        .put("functions", array(new JsonObject().put("name", "f")))
        .put("function_call", "auto");

    Mapping.Sent sent = Mapping.send(ClientFormat.OPENAI_CHAT, kind, request);

    assertThat(Mapping.keys(sent.body())).doesNotContain("functions", "function_call");
    assertThat(sent.warnings()).anyMatch(w -> w.contains("'functions'"))
        .anyMatch(w -> w.contains("'function_call'"));
  }

  @ParameterizedTest
  @EnumSource(names = {"ANTHROPIC", "GEMINI"})
  void imageDetailIsDroppedSilently(ProviderKind kind) {
    JsonObject image = new JsonObject().put("type", "image_url").put("image_url",
        new JsonObject().put("url", "data:image/png;base64,AAAA").put("detail", "high"));

    Mapping.Sent sent = Mapping.send(ClientFormat.OPENAI_CHAT, kind,
        chat(msg("user", array(image))));

    assertThat(Mapping.keys(sent.body())).doesNotContain("detail");
    assertThat(sent.body().encode()).contains("AAAA");
  }

  @ParameterizedTest
  @EnumSource(names = {"ANTHROPIC", "GEMINI"})
  void historyToolArgumentsThatAreNotAnObjectAreRefused(ProviderKind kind) {
    JsonObject assistant = new JsonObject().put("role", "assistant").putNull("content")
        .put("tool_calls", array(new JsonObject().put("id", "c1").put("type", "function")
            .put("function", new JsonObject().put("name", "f").put("arguments", "[1,2]"))));

    UnsupportedRequest refused = Mapping.refusal(ClientFormat.OPENAI_CHAT, kind,
        chat(msg("user", "q"), assistant));

    assertThat(refused.param()).isEqualTo("messages[1].tool_calls[0].function.arguments");
  }

  @ParameterizedTest
  @EnumSource(names = {"ANTHROPIC", "GEMINI"})
  void historyRefusalPartsAreSentAsText(ProviderKind kind) {
    JsonObject assistant = msg("assistant", array(new JsonObject().put("type", "refusal")
        .put("refusal", "I won't.")));

    Mapping.Sent sent = Mapping.send(ClientFormat.OPENAI_CHAT, kind,
        chat(msg("user", "q"), assistant, msg("user", "why?")));

    assertThat(sent.body().encode()).contains("I won't.");
  }

  @ParameterizedTest
  @EnumSource(names = {"OPENAI", "GEMINI"})
  void toolResultErrorFlagIsDroppedSilently(ProviderKind kind) {
    JsonObject request = new JsonObject().put("model", Mapping.CLIENT_MODEL)
        .put("max_tokens", 10).put("messages", array(
            msg("user", "q"),
            msg("assistant", array(new JsonObject().put("type", "tool_use").put("id", "t1")
                .put("name", "f").put("input", new JsonObject()))),
            msg("user", array(new JsonObject().put("type", "tool_result")
                .put("tool_use_id", "t1").put("content", "failed").put("is_error", true)))));

    Mapping.Sent sent = Mapping.send(ClientFormat.ANTHROPIC_MESSAGES, kind, request);

    assertThat(Mapping.keys(sent.body())).doesNotContain("is_error");
    assertThat(sent.body().encode()).contains("failed");
  }

  @ParameterizedTest
  @CsvSource({"IMAGE_SAFETY, content_filter", "LANGUAGE, content_filter",
      "MALFORMED_FUNCTION_CALL, stop", "UNEXPECTED_TOOL_CALL, stop"})
  void rarerGeminiFinishReasons(String gemini, String openAi) {
    JsonObject upstream = new JsonObject().put("candidates", new JsonArray().add(new JsonObject()
        .put("content", new JsonObject().put("parts", array(new JsonObject().put("text", "x"))))
        .put("finishReason", gemini)));

    Translated answer = Mapping.answer(ClientFormat.OPENAI_CHAT, ProviderKind.GEMINI, upstream);

    assertThat(answer.body().getJsonArray("choices").getJsonObject(0)
        .getString("finish_reason")).isEqualTo(openAi);
  }

  @Test
  void anOpenAiRefusalBecomesAnAnthropicRefusal() {
    JsonObject upstream = new JsonObject().put("id", "x").put("choices", array(new JsonObject()
        .put("index", 0).put("finish_reason", "stop").put("message", new JsonObject()
            .put("role", "assistant").putNull("content").put("refusal", "No."))));

    Translated answer = Mapping.answer(ClientFormat.ANTHROPIC_MESSAGES, ProviderKind.OPENAI,
        upstream);

    assertThat(answer.body().getString("stop_reason")).isEqualTo("refusal");
    assertThat(answer.body().getJsonArray("content")).containsExactly(text("No."));
  }
}
