package io.flopex.translate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flopex.config.ProviderKind;
import io.flopex.translate.responses.ResponsesToChat;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How a Responses API request reads as the Chat Completions request that is routed. */
class ResponsesRequestMappingTest {

  private static JsonObject request(Object input) {
    return JsonObject.of("model", "m", "input", input);
  }

  private static JsonObject chat(JsonObject request, List<String> warnings) {
    return ResponsesToChat.toChat(request, warnings);
  }

  private static JsonObject chat(JsonObject request) {
    return chat(request, new ArrayList<>());
  }

  @Test
  void instructionsAndAStringInputBecomeASystemAndAUserMessage() {
    JsonObject chat = chat(request("Hi").put("instructions", "Be brief.")
        .put("max_output_tokens", 50).put("temperature", 0.2).put("store", true)
        .put("metadata", JsonObject.of("a", "b")));

    assertThat(chat).isEqualTo(JsonObject.of("model", "m", "messages", JsonArray.of(
            JsonObject.of("role", "system", "content", "Be brief."),
            JsonObject.of("role", "user", "content", "Hi")),
        "max_completion_tokens", 50, "temperature", 0.2));
  }

  @Test
  void messageItemsKeepTheirRolesAndParts() {
    JsonObject chat = chat(request(JsonArray.of(
        JsonObject.of("role", "developer", "content", "Rules."),
        JsonObject.of("type", "message", "role", "user", "content", JsonArray.of(
            JsonObject.of("type", "input_text", "text", "What is this?"),
            JsonObject.of("type", "input_image", "image_url", "data:image/png;base64,AAAA",
                "detail", "low"))),
        JsonObject.of("type", "message", "role", "assistant", "content", JsonArray.of(
            JsonObject.of("type", "output_text", "text", "A cat.", "annotations",
                new JsonArray()))))));

    assertThat(chat.getJsonArray("messages")).isEqualTo(JsonArray.of(
        JsonObject.of("role", "developer", "content", "Rules."),
        JsonObject.of("role", "user", "content", JsonArray.of(
            JsonObject.of("type", "text", "text", "What is this?"),
            JsonObject.of("type", "image_url", "image_url",
                JsonObject.of("url", "data:image/png;base64,AAAA", "detail", "low")))),
        JsonObject.of("role", "assistant", "content", "A cat.")));
  }

  @Test
  void parallelFunctionCallsShareTheAssistantTurnBeforeThem() {
    List<String> warnings = new ArrayList<>();
    JsonObject chat = chat(request(JsonArray.of(
        JsonObject.of("role", "user", "content", "Paris and Oslo?"),
        JsonObject.of("type", "reasoning", "id", "rs_1", "summary", new JsonArray()),
        JsonObject.of("type", "message", "role", "assistant", "content", JsonArray.of(
            JsonObject.of("type", "output_text", "text", ""))),
        JsonObject.of("type", "function_call", "call_id", "c1", "name", "weather",
            "arguments", "{\"city\":\"Paris\"}"),
        JsonObject.of("type", "function_call", "call_id", "c2", "name", "weather",
            "arguments", "{\"city\":\"Oslo\"}"),
        JsonObject.of("type", "function_call_output", "call_id", "c1", "output", "sunny"),
        JsonObject.of("type", "function_call_output", "call_id", "c2", "output", "rain"))),
        warnings);

    JsonArray messages = chat.getJsonArray("messages");
    assertThat(messages).hasSize(4);
    JsonObject assistant = messages.getJsonObject(1);
    assertThat(assistant.getValue("content")).isNull();
    assertThat(assistant.getJsonArray("tool_calls")).extracting(c -> ((JsonObject) c)
        .getString("id")).containsExactly("c1", "c2");
    assertThat(messages.getJsonObject(3)).isEqualTo(JsonObject.of("role", "tool",
        "tool_call_id", "c2", "content", "rain"));
    assertThat(warnings).singleElement().asString().contains("reasoning");
  }

  @Test
  void functionToolsChoicesFormatsAndEffortTakeTheirChatNames() {
    JsonObject schema = JsonObject.of("type", "object");
    JsonObject chat = chat(request("Hi")
        .put("tools", JsonArray.of(JsonObject.of("type", "function", "name", "f",
            "description", "d", "parameters", schema, "strict", true)))
        .put("tool_choice", JsonObject.of("type", "function", "name", "f"))
        .put("text", JsonObject.of("format", JsonObject.of("type", "json_object")))
        .put("reasoning", JsonObject.of("effort", "high", "summary", "auto")));

    assertThat(chat.getJsonArray("tools")).isEqualTo(JsonArray.of(JsonObject.of(
        "type", "function", "function", JsonObject.of("name", "f", "description", "d",
            "parameters", schema, "strict", true))));
    assertThat(chat.getJsonObject("tool_choice")).isEqualTo(JsonObject.of("type", "function",
        "function", JsonObject.of("name", "f")));
    assertThat(chat.getJsonObject("response_format"))
        .isEqualTo(JsonObject.of("type", "json_object"));
    assertThat(chat.getString("reasoning_effort")).isEqualTo("high");
  }

  @Test
  void shapesItCannotReadAreRefusedNamingTheClientsField() {
    assertThatThrownBy(() -> chat(request(JsonArray.of(
        JsonObject.of("role", "user", "content", JsonArray.of(
            JsonObject.of("type", "input_file", "file_id", "file-1")))))))
        .isInstanceOf(UnsupportedRequest.class)
        .extracting(e -> ((UnsupportedRequest) e).param())
        .isEqualTo("input[0].content[0].type");
    assertThatThrownBy(() -> chat(request("x").put("tools", JsonArray.of(
        JsonObject.of("type", "web_search")))))
        .extracting(e -> ((UnsupportedRequest) e).param()).isEqualTo("tools[0].type");
    assertThatThrownBy(() -> chat(request(new JsonArray())))
        .extracting(e -> ((UnsupportedRequest) e).param()).isEqualTo("input");
  }

  @Test
  void aProviderRefusalNamesTheClientsFieldNotTheChatOne() {
    JsonObject chat = chat(request(JsonArray.of(JsonObject.of("role", "user", "content",
        JsonArray.of(JsonObject.of("type", "input_image", "image_url",
            "https://img.test/cat.png"))))).put("reasoning", JsonObject.of("effort", "low")));
    Translator gemini = Translators.forPair(ClientFormat.OPENAI_RESPONSES, ProviderKind.GEMINI);
    Translator claude = Translators.forPair(ClientFormat.OPENAI_RESPONSES,
        ProviderKind.ANTHROPIC);

    assertThatThrownBy(() -> gemini.request(chat, "g", false, new ArrayList<>()))
        .extracting(e -> ((UnsupportedRequest) e).param()).isEqualTo("input");
    List<String> warnings = new ArrayList<>();
    claude.request(chat, "c", false, warnings);
    assertThat(warnings).anySatisfy(w -> assertThat(w).contains("'reasoning.effort'"));
  }
}
