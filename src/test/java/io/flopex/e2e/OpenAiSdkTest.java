package io.flopex.e2e;

import static io.flopex.testing.FakeUpstream.fixture;
import static io.flopex.testing.FakeUpstream.fixtureEvents;
import static io.flopex.testing.FakeUpstream.json;
import static io.flopex.testing.FakeUpstream.sse;
import static org.assertj.core.api.Assertions.assertThat;

import com.openai.client.OpenAIClient;
import com.openai.core.http.HttpResponseFor;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.FunctionDefinition;
import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.Sync;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The official OpenAI Java SDK, pointed at Flopex, served from recorded provider answers. */
class OpenAiSdkTest {

  private static Vertx vertx;
  private static FakeUpstream groq;
  private static Gateway gateway;
  private static OpenAIClient client;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    groq = FakeUpstream.start(vertx);
    gateway = Gateway.builder(vertx)
        .provider("groq", groq.baseUrl())
        .model("meta-llama/llama-3.3-70b-instruct", "groq")
        .start();
    client = gateway.openAi();
  }

  @AfterAll
  static void stop() {
    gateway.close();
    groq.close();
    Sync.await(vertx.close());
  }

  private static ChatCompletionCreateParams.Builder params() {
    return ChatCompletionCreateParams.builder()
        .model("meta-llama/llama-3.3-70b-instruct")
        .addSystemMessage("You are terse.")
        .addUserMessage("Invent a new holiday and describe its traditions.");
  }

  @Test
  void nonStreamingTextComesBackUnderTheClientsModelName() {
    groq.then(json(200, fixture("groq/groq-text.json")));
    ChatCompletion completion = client.chat().completions().create(params().build());

    String expected = new JsonObject(fixture("groq/groq-text.json")).getJsonArray("choices")
        .getJsonObject(0).getJsonObject("message").getString("content");
    assertThat(completion.choices().get(0).message().content()).contains(expected);
    assertThat(completion.model()).isEqualTo("meta-llama/llama-3.3-70b-instruct");
    assertThat(completion.usage().get().promptTokens()).isEqualTo(
        new JsonObject(fixture("groq/groq-text.json")).getJsonObject("usage")
            .getLong("prompt_tokens"));
    JsonObject sent = groq.lastRequest().body();
    assertThat(sent.getString("model")).isEqualTo("up-groq");
    assertThat(groq.lastRequest().headers().get("authorization")).isEqualTo("Bearer sk-upstream-groq");
  }

  @Test
  void streamingTextArrivesWholeAndInOrder() {
    groq.then(sse(fixtureEvents("groq/groq-text.chunks.txt")));
    StringBuilder text = new StringBuilder();
    List<String> finishes = new ArrayList<>();
    try (StreamResponse<ChatCompletionChunk> stream =
        client.chat().completions().createStreaming(params().build())) {
      stream.stream().forEach(chunk -> {
        assertThat(chunk.model()).isEqualTo("meta-llama/llama-3.3-70b-instruct");
        chunk.choices().forEach(choice -> {
          choice.delta().content().ifPresent(text::append);
          choice.finishReason().ifPresent(f -> finishes.add(f.asString()));
        });
      });
    }
    StringBuilder expected = new StringBuilder();
    for (String event : fixtureEvents("groq/groq-text.chunks.txt")) {
      JsonObject e = new JsonObject(event);
      if (!e.getJsonArray("choices").isEmpty()) {
        String c = e.getJsonArray("choices").getJsonObject(0).getJsonObject("delta")
            .getString("content");
        if (c != null) {
          expected.append(c);
        }
      }
    }
    assertThat(text.toString()).isEqualTo(expected.toString());
    assertThat(finishes).hasSize(1);
    JsonObject sent = groq.lastRequest().body();
    assertThat(sent.getBoolean("stream")).isTrue();
    assertThat(sent.getJsonObject("stream_options").getBoolean("include_usage")).isTrue();
  }

  @Test
  void streamedToolCallReachesTheClient() {
    groq.then(sse(fixtureEvents("groq/groq-tool-call.chunks.txt")));
    ChatCompletionCreateParams request = params()
        .addTool(ChatCompletionFunctionTool.builder()
            .function(FunctionDefinition.builder().name("weather").build())
            .build())
        .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build())
        .build();
    List<String> names = new ArrayList<>();
    List<Long> usageTotals = new ArrayList<>();
    try (StreamResponse<ChatCompletionChunk> stream =
        client.chat().completions().createStreaming(request)) {
      stream.stream().forEach(chunk -> {
        chunk.usage().ifPresent(u -> usageTotals.add(u.totalTokens()));
        chunk.choices().forEach(choice -> choice.delta().toolCalls().ifPresent(calls ->
            calls.forEach(call -> call.function().flatMap(f -> f.name()).ifPresent(names::add))));
      });
    }
    assertThat(names).containsExactly("weather");
    assertThat(usageTotals).containsExactly(225L);
  }

  @Test
  void everyRequestLeavesOneMeteredRow() {
    groq.then(json(200, fixture("groq/groq-tool-call.json")));
    HttpResponseFor<ChatCompletion> response =
        client.chat().completions().withRawResponse().create(params().build());
    assertThat(response.statusCode()).isEqualTo(200);
    Row row = gateway.awaitUsageRow(response.headers().values("x-request-id").get(0));
    assertThat(row.getString("outcome")).isEqualTo("success");
    assertThat(row.getString("provider")).isEqualTo("groq");
    assertThat(row.getString("upstream_model")).isEqualTo("up-groq");
    assertThat(row.getLong("prompt_tokens")).isEqualTo(218);
    assertThat(row.getLong("completion_tokens")).isEqualTo(15);
    // 218 * 1.5 + 15 * 2.0 USD per million tokens = 357 micro-USD
    assertThat(row.getLong("cost_micros")).isEqualTo(357);
    assertThat(row.getBoolean("tokens_estimated")).isFalse();
  }
}
