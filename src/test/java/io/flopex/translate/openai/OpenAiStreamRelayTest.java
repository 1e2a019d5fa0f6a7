package io.flopex.translate.openai;

import static org.assertj.core.api.Assertions.assertThat;

import io.flopex.bus.Usage;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class OpenAiStreamRelayTest {

  private static final Path RECORDED = Path.of("..", "shared", "fixtures", "recorded");
  private static final String ID = "chatcmpl-flopex-1";
  private static final String MODEL = "meta-llama/llama-3.3-70b-instruct";

  private static List<JsonObject> chunks(String provider, String name) throws IOException {
    return Files.readAllLines(RECORDED.resolve(provider).resolve(name + ".chunks.txt")).stream()
        .filter(line -> !line.isBlank())
        .map(JsonObject::new)
        .toList();
  }

  private static List<JsonObject> groq() throws IOException {
    return chunks("groq", "groq-text");
  }

  private static List<JsonObject> openAi() throws IOException {
    return chunks("openai", "openai-text");
  }

  private static List<JsonObject> relay(OpenAiStreamRelay relay, List<JsonObject> upstream) {
    List<JsonObject> out = new ArrayList<>();
    for (JsonObject chunk : upstream) {
      JsonObject sent = relay.accept(chunk);
      if (sent != null) {
        out.add(sent);
      }
    }
    return out;
  }

  private static List<JsonObject> choices(List<JsonObject> chunks) {
    return chunks.stream()
        .flatMap(c -> c.getJsonArray("choices").stream().map(JsonObject.class::cast))
        .toList();
  }

  private static List<JsonObject> finishes(List<JsonObject> chunks) {
    return choices(chunks).stream().filter(c -> c.getValue("finish_reason") != null).toList();
  }

  private static String text(List<JsonObject> chunks) {
    StringBuilder sb = new StringBuilder();
    for (JsonObject choice : choices(chunks)) {
      if (choice.getJsonObject("delta") != null
          && choice.getJsonObject("delta").getString("content") != null) {
        sb.append(choice.getJsonObject("delta").getString("content"));
      }
    }
    return sb.toString();
  }

  private static JsonObject chunk(int index, String content, String finish) {
    JsonObject delta =
        content == null ? new JsonObject() : new JsonObject().put("content", content);
    return new JsonObject()
        .put("id", "upstream-id")
        .put("object", "chat.completion.chunk")
        .put("created", 1_700_000_000)
        .put("model", "upstream-model")
        .put("choices", new JsonArray().add(new JsonObject()
            .put("index", index)
            .put("delta", delta)
            .put("finish_reason", finish)));
  }

  private static void assertEnvelope(JsonObject chunk) {
    assertThat(chunk.getString("id")).isEqualTo(ID);
    assertThat(chunk.getString("model")).isEqualTo(MODEL);
  }

  @Test
  void groqChunksCarryTheGivenIdAndModel() throws IOException {
    List<JsonObject> upstream = groq();

    List<JsonObject> out = relay(new OpenAiStreamRelay(ID, MODEL, false), upstream);

    assertThat(out).hasSize(upstream.size()).allSatisfy(OpenAiStreamRelayTest::assertEnvelope);
  }

  @Test
  void groqTextPassesUnchanged() throws IOException {
    List<JsonObject> upstream = groq();

    List<JsonObject> out = relay(new OpenAiStreamRelay(ID, MODEL, false), upstream);

    assertThat(text(out)).isEqualTo(text(upstream)).startsWith("Introducing \"Luminaria\"");
  }

  @Test
  void groqUsageOnTheFinishChunkIsCapturedAndRemoved() throws IOException {
    OpenAiStreamRelay relay = new OpenAiStreamRelay(ID, MODEL, false);

    List<JsonObject> out = relay(relay, groq());

    assertThat(relay.reportedUsage()).isEqualTo(new Usage(45, 662, 0, 0, false));
    assertThat(out).allSatisfy(c -> assertThat(c.containsKey("usage")).isFalse());
    assertThat(out.get(out.size() - 1).getJsonArray("choices").getJsonObject(0)
        .getString("finish_reason")).isEqualTo("stop");
  }

  @Test
  void groqUsageIsNotLeftInsideVendorFields() throws IOException {
    List<JsonObject> out = relay(new OpenAiStreamRelay(ID, MODEL, false), groq());

    assertThat(out).filteredOn(c -> c.encode().contains("prompt_tokens")).isEmpty();
  }

  @Test
  void groqStreamFinishesOnceAndClosingAddsNothingWithoutUsage() throws IOException {
    OpenAiStreamRelay relay = new OpenAiStreamRelay(ID, MODEL, false);

    List<JsonObject> out = relay(relay, groq());

    assertThat(finishes(out)).singleElement()
        .satisfies(c -> assertThat(c.getInteger("index")).isZero());
    assertThat(relay.finishedAny()).isTrue();
    assertThat(relay.closing(relay.reportedUsage())).isEmpty();
  }

  @Test
  void groqClosingEmitsOneUsageChunkWhenAsked() throws IOException {
    OpenAiStreamRelay relay = new OpenAiStreamRelay(ID, MODEL, true);
    List<JsonObject> out = relay(relay, groq());

    List<JsonObject> closing = relay.closing(relay.reportedUsage());

    assertThat(finishes(out)).hasSize(1);
    assertThat(closing).singleElement().satisfies(c -> {
      assertEnvelope(c);
      assertThat(c.getJsonArray("choices")).isEmpty();
      assertThat(c.encode()).contains("\"choices\":[]");
      assertThat(c.getJsonObject("usage").getLong("prompt_tokens")).isEqualTo(45);
      assertThat(c.getJsonObject("usage").getLong("completion_tokens")).isEqualTo(662);
      assertThat(c.getJsonObject("usage").getLong("total_tokens")).isEqualTo(707);
    });
  }

  @Test
  void deepSeekUsageOnTheFinishChunkIsCapturedAndItsFinishReasonKept() throws IOException {
    OpenAiStreamRelay relay = new OpenAiStreamRelay(ID, MODEL, true);

    List<JsonObject> out = relay(relay, chunks("deepseek", "deepseek-text"));

    assertThat(relay.reportedUsage()).isEqualTo(new Usage(13, 400, 0, 0, false));
    assertThat(out).allSatisfy(c -> assertThat(c.containsKey("usage")).isFalse());
    assertThat(finishes(out)).singleElement()
        .satisfies(c -> assertThat(c.getString("finish_reason")).isEqualTo("length"));
    assertThat(relay.closing(relay.reportedUsage())).singleElement()
        .satisfies(c -> assertThat(c.getJsonArray("choices")).isEmpty());
  }

  @Test
  void groqToolCallStreamCountsAsContentAndKeepsItsFinishReason() throws IOException {
    OpenAiStreamRelay relay = new OpenAiStreamRelay(ID, MODEL, false);

    List<JsonObject> out = relay(relay, chunks("groq", "groq-tool-call"));

    assertThat(relay.hasContent()).isTrue();
    assertThat(relay.reportedUsage()).isEqualTo(new Usage(210, 15, 0, 0, false));
    assertThat(finishes(out)).singleElement()
        .satisfies(c -> assertThat(c.getString("finish_reason")).isEqualTo("tool_calls"));
    assertThat(relay.closing(relay.reportedUsage())).isEmpty();
  }

  @Test
  void openAiChunksCarryTheGivenIdAndModelAndTheUsageChunkIsHeldBack() throws IOException {
    List<JsonObject> upstream = openAi();

    List<JsonObject> out = relay(new OpenAiStreamRelay(ID, MODEL, true), upstream);

    assertThat(out).hasSize(upstream.size() - 1)
        .allSatisfy(OpenAiStreamRelayTest::assertEnvelope)
        .allSatisfy(c -> assertThat(c.getJsonArray("choices")).isNotEmpty())
        .allSatisfy(c -> assertThat(c.containsKey("usage")).isFalse());
    assertThat(text(out)).isEqualTo(text(upstream));
  }

  @Test
  void openAiUsageChunkWithEmptyChoicesIsCaptured() throws IOException {
    OpenAiStreamRelay relay = new OpenAiStreamRelay(ID, MODEL, false);
    List<JsonObject> upstream = openAi();

    relay(relay, upstream);

    assertThat(relay.accept(upstream.get(upstream.size() - 1))).isNull();
    assertThat(relay.reportedUsage()).isEqualTo(new Usage(16, 300, 0, 0, false));
  }

  @Test
  void openAiStreamFinishesOnce() throws IOException {
    OpenAiStreamRelay relay = new OpenAiStreamRelay(ID, MODEL, true);

    List<JsonObject> out = relay(relay, openAi());
    List<JsonObject> closing = relay.closing(relay.reportedUsage());

    assertThat(finishes(out)).singleElement()
        .satisfies(c -> assertThat(c.getString("finish_reason")).isEqualTo("stop"));
    assertThat(finishes(closing)).isEmpty();
  }

  @Test
  void openAiClosingEmitsExactlyOneUsageChunkWhenAsked() throws IOException {
    OpenAiStreamRelay relay = new OpenAiStreamRelay(ID, MODEL, true);
    relay(relay, openAi());

    List<JsonObject> closing = relay.closing(relay.reportedUsage());

    assertThat(closing).singleElement().satisfies(c -> {
      assertEnvelope(c);
      assertThat(c.getString("object")).isEqualTo("chat.completion.chunk");
      assertThat(c.getJsonArray("choices")).isEmpty();
      assertThat(c.getJsonObject("usage")).isEqualTo(new JsonObject()
          .put("prompt_tokens", 16)
          .put("completion_tokens", 300)
          .put("total_tokens", 316)
          .put("prompt_tokens_details", new JsonObject().put("cached_tokens", 0))
          .put("completion_tokens_details", new JsonObject().put("reasoning_tokens", 0)));
    });
  }

  @Test
  void openAiClosingEmitsNoUsageChunkUnlessAsked() throws IOException {
    OpenAiStreamRelay relay = new OpenAiStreamRelay(ID, MODEL, false);
    relay(relay, openAi());

    assertThat(relay.closing(relay.reportedUsage())).isEmpty();
    assertThat(relay.reportedUsage()).isNotNull();
  }

  @Test
  void closingSynthesizesTheFinishUpstreamNeverSent() throws IOException {
    List<JsonObject> upstream = openAi();
    List<JsonObject> truncated = upstream.subList(0, upstream.size() - 2);
    assertThat(finishes(truncated)).isEmpty();
    OpenAiStreamRelay relay = new OpenAiStreamRelay(ID, MODEL, true);
    List<JsonObject> out = relay(relay, truncated);

    List<JsonObject> closing = relay.closing(new Usage(16, 250, 0, 0, true));

    assertThat(relay.reportedUsage()).isNull();
    assertThat(finishes(out)).isEmpty();
    assertThat(closing).hasSize(2).allSatisfy(OpenAiStreamRelayTest::assertEnvelope);
    assertThat(closing.get(0).getJsonArray("choices")).singleElement()
        .isEqualTo(new JsonObject().put("index", 0).put("delta", new JsonObject())
            .put("finish_reason", "stop"));
    assertThat(closing.get(1).getJsonArray("choices")).isEmpty();
    assertThat(closing.get(1).getJsonObject("usage").getLong("completion_tokens"))
        .isEqualTo(250);
  }

  @Test
  void closingSynthesizesTheFinishWithoutUsageWhenNotAsked() throws IOException {
    List<JsonObject> upstream = groq();
    OpenAiStreamRelay relay = new OpenAiStreamRelay(ID, MODEL, false);
    relay(relay, upstream.subList(0, upstream.size() - 1));

    List<JsonObject> closing = relay.closing(new Usage(45, 661, 0, 0, true));

    assertThat(closing).singleElement().satisfies(c -> {
      assertEnvelope(c);
      assertThat(finishes(List.of(c))).hasSize(1);
      assertThat(c.containsKey("usage")).isFalse();
    });
  }

  @Test
  void closingAnEmptyStreamFinishesChoiceZero() {
    OpenAiStreamRelay relay = new OpenAiStreamRelay(ID, MODEL, true);

    List<JsonObject> closing = relay.closing(Usage.NONE);

    assertThat(closing).hasSize(2).allSatisfy(OpenAiStreamRelayTest::assertEnvelope);
    assertThat(finishes(closing)).singleElement()
        .satisfies(c -> assertThat(c.getInteger("index")).isZero());
    assertThat(closing.get(1).getJsonArray("choices")).isEmpty();
    assertThat(closing.get(1).getJsonObject("usage").getLong("total_tokens")).isZero();
  }

  @Test
  void secondFinishForTheSameChoiceIsCleared() {
    OpenAiStreamRelay relay = new OpenAiStreamRelay(ID, MODEL, false);
    List<JsonObject> out = new ArrayList<>();

    out.add(relay.accept(chunk(0, "Hi", null)));
    out.add(relay.accept(chunk(0, null, "stop")));
    out.add(relay.accept(chunk(0, null, "length")));
    out.addAll(relay.closing(Usage.NONE));

    assertThat(finishes(out)).singleElement()
        .satisfies(c -> assertThat(c.getString("finish_reason")).isEqualTo("stop"));
  }

  @Test
  void eachChoiceFinishesExactlyOnce() {
    OpenAiStreamRelay relay = new OpenAiStreamRelay(ID, MODEL, true);
    List<JsonObject> out = new ArrayList<>();

    out.add(relay.accept(chunk(0, "a", null)));
    out.add(relay.accept(chunk(1, "b", null)));
    out.add(relay.accept(chunk(0, null, "stop")));
    out.add(relay.accept(chunk(0, null, "stop")));
    out.addAll(relay.closing(Usage.NONE));

    assertThat(finishes(out)).extracting(c -> c.getInteger("index"))
        .containsExactlyInAnyOrder(0, 1);
    assertThat(out.get(out.size() - 1).getJsonArray("choices")).isEmpty();
    assertThat(out).filteredOn(c -> c.containsKey("usage")).hasSize(1);
  }

  @Test
  void usageChunkComesAfterTheFinish() {
    OpenAiStreamRelay relay = new OpenAiStreamRelay(ID, MODEL, true);
    relay.accept(chunk(0, "a", null));

    List<JsonObject> closing = relay.closing(new Usage(1, 1, 0, 0, true));

    assertThat(closing).hasSize(2);
    assertThat(finishes(closing.subList(0, 1))).hasSize(1);
    assertThat(closing.get(1).getJsonArray("choices")).isEmpty();
  }

  @Test
  void upstreamChunkIsNotModified() throws IOException {
    List<JsonObject> upstream = groq();
    JsonObject finish = upstream.get(upstream.size() - 1);
    JsonObject before = finish.copy();
    OpenAiStreamRelay relay = new OpenAiStreamRelay(ID, MODEL, false);

    relay(relay, upstream);

    assertThat(finish).isEqualTo(before);
  }

  @Test
  void openingChunkWithOnlyARoleIsNotContent() throws IOException {
    List<JsonObject> upstream = groq();
    OpenAiStreamRelay relay = new OpenAiStreamRelay(ID, MODEL, false);

    relay.accept(upstream.get(0));
    assertThat(relay.hasContent()).isFalse();

    relay.accept(upstream.get(1));
    assertThat(relay.hasContent()).isTrue();
  }

  @Test
  void deliveredCharactersCountTheText() throws IOException {
    List<JsonObject> upstream = openAi();
    OpenAiStreamRelay relay = new OpenAiStreamRelay(ID, MODEL, false);

    relay(relay, upstream);

    assertThat(relay.deliveredChars()).isEqualTo(text(upstream).length());
  }

  @Test
  void chunkWithoutChoicesOrUsageSendsNothing() {
    OpenAiStreamRelay relay = new OpenAiStreamRelay(ID, MODEL, false);

    assertThat(relay.accept(new JsonObject().put("id", "x").put("choices", new JsonArray())))
        .isNull();
    assertThat(relay.accept(new JsonObject().put("id", "x"))).isNull();
    assertThat(relay.reportedUsage()).isNull();
  }

  @Test
  void everyRecordedStreamKeepsOneIdAndModel() throws IOException {
    List<JsonObject> all = Stream.of(groq(), openAi())
        .map(upstream -> {
          OpenAiStreamRelay relay = new OpenAiStreamRelay(ID, MODEL, true);
          List<JsonObject> out = new ArrayList<>(relay(relay, upstream));
          out.addAll(relay.closing(Objects.requireNonNull(relay.reportedUsage())));
          return out;
        })
        .flatMap(List::stream)
        .toList();

    assertThat(all).extracting(c -> c.getString("id")).containsOnly(ID);
    assertThat(all).extracting(c -> c.getString("model")).containsOnly(MODEL);
  }
}
