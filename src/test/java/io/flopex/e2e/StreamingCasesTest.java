package io.flopex.e2e;

import static io.flopex.testing.FakeUpstream.fixtureEvents;
import static io.flopex.testing.FakeUpstream.rawWrites;
import static io.flopex.testing.FakeUpstream.sse;
import static io.flopex.testing.FakeUpstream.writes;
import static org.assertj.core.api.Assertions.assertThat;

import io.flopex.testing.Chunks;
import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.SseClient;
import io.flopex.testing.Sync;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** How streams are framed, reassembled and ended, as the client sees them on the wire. */
class StreamingCasesTest {

  private static Vertx vertx;
  private static FakeUpstream a;
  private static FakeUpstream b;
  private static Gateway gateway;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    a = FakeUpstream.start(vertx);
    b = FakeUpstream.start(vertx);
    gateway = Gateway.builder(vertx)
        .provider("a", a.baseUrl())
        .provider("b", b.baseUrl())
        .model("m", "a", "b")
        .start();
  }

  @AfterAll
  static void stop() {
    gateway.close();
    a.close();
    b.close();
    Sync.await(vertx.close());
  }

  /** The text of every content delta, in order. */
  private static String text(List<String> events) {
    StringBuilder text = new StringBuilder();
    for (String e : events) {
      if (e.equals("[DONE]")) {
        continue;
      }
      JsonObject chunk = new JsonObject(e);
      JsonArray choices = chunk.getJsonArray("choices");
      if (choices != null && !choices.isEmpty()) {
        String c = choices.getJsonObject(0).getJsonObject("delta").getString("content");
        if (c != null) {
          text.append(c);
        }
      }
    }
    return text.toString();
  }

  private static List<String> streamOf(String extra) {
    return streamOf(extra, java.util.UUID.randomUUID().toString());
  }

  private static List<String> streamOf(String extra, String requestId) {
    try (SseClient client = SseClient.open(gateway, Chunks.request(true, extra), requestId)) {
      assertThat(client.status()).isEqualTo(200);
      return client.rest();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"\n", "\r\n"})
  void b01_eventSplitAcrossReadsArrivesOnceAndIntact(String eol) {
    String event = Chunks.content("split \"inside\" the string");
    int cut = event.indexOf("inside") + 3;
    a.then(writes(List.of(
        "data: " + Chunks.role() + eol + eol,
        "data: " + event.substring(0, cut),
        event.substring(cut) + eol,
        eol,
        "data: " + Chunks.finish("stop") + eol + eol + "data: [DONE]" + eol + eol), 30, true));

    List<String> events = streamOf("");

    assertThat(text(events)).isEqualTo("split \"inside\" the string");
    assertThat(events).last().isEqualTo("[DONE]");
  }

  @Test
  void b01_veryLongLinesPassIntact() {
    String large = "x".repeat(300 * 1024);
    String huge = "y".repeat(2 * 1024 * 1024);
    a.then(sse(List.of(Chunks.role(), Chunks.content(large), Chunks.content(huge),
        Chunks.finish("stop"))));

    List<String> events = streamOf("");

    assertThat(text(events)).isEqualTo(large + huge);
    assertThat(events).last().isEqualTo("[DONE]");
  }

  @Test
  void b01_eventAboveTheCapEndsTheStreamWithAnErrorNotATruncation() {
    String overCap = "z".repeat(17 * 1024 * 1024);
    a.then(sse(List.of(Chunks.content("before"), Chunks.content(overCap),
        Chunks.finish("stop"))));

    List<String> events = streamOf("");

    assertThat(text(events.subList(0, events.size() - 1))).isEqualTo("before");
    assertThat(events).doesNotContain("[DONE]");
    assertThat(new JsonObject(events.get(events.size() - 1)).getJsonObject("error")
        .getString("code")).isEqualTo("stream_interrupted");
  }

  @Test
  void b02_multiByteCharactersSplitAcrossChunksStayIntact() {
    String text = "가나다🙂é";
    byte[] frame = ("data: " + Chunks.content(text) + "\n\n").getBytes(StandardCharsets.UTF_8);
    String json = new String(frame, StandardCharsets.UTF_8);
    int na = json.indexOf("나");
    int emoji = json.indexOf("🙂");
    int e = json.indexOf("é");
    int naAt = new String(frame, StandardCharsets.UTF_8).substring(0, na)
        .getBytes(StandardCharsets.UTF_8).length + 1;
    int emojiAt = json.substring(0, emoji).getBytes(StandardCharsets.UTF_8).length + 2;
    int eAt = json.substring(0, e).getBytes(StandardCharsets.UTF_8).length + 1;
    List<Buffer> pieces = new ArrayList<>();
    pieces.add(Buffer.buffer("data: " + Chunks.role() + "\n\n"));
    pieces.add(Buffer.buffer(slice(frame, 0, naAt)));
    pieces.add(Buffer.buffer(slice(frame, naAt, emojiAt)));
    pieces.add(Buffer.buffer(slice(frame, emojiAt, eAt)));
    pieces.add(Buffer.buffer(slice(frame, eAt, frame.length)));
    pieces.add(Buffer.buffer("data: " + Chunks.finish("stop") + "\n\ndata: [DONE]\n\n"));
    a.then(rawWrites(pieces, 30, true));

    List<String> events = streamOf("");

    assertThat(text(events)).isEqualTo(text);
    assertThat(String.join("", events)).doesNotContain("\uFFFD");
  }

  private static byte[] slice(byte[] bytes, int from, int to) {
    byte[] out = new byte[to - from];
    System.arraycopy(bytes, from, out, 0, out.length);
    return out;
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "\"stream_options\":{\"include_usage\":false}",
      "\"stream_options\":{\"include_usage\":true}"})
  void b03_streamEndsWithOneFinishOptionalUsageThenDone(String options) {
    boolean asked = options.contains("true");
    for (String fixture : List.of("openai/openai-text.chunks.txt", "groq/groq-text.chunks.txt",
        "deepseek/deepseek-text.chunks.txt")) {
      a.then(sse(fixtureEvents(fixture)));

      List<String> events = streamOf(options);

      assertThat(events).as(fixture).last().isEqualTo("[DONE]");
      assertThat(events.stream().filter("[DONE]"::equals)).hasSize(1);
      List<JsonObject> chunks = events.subList(0, events.size() - 1).stream()
          .map(JsonObject::new).toList();
      Set<String> ids = new HashSet<>();
      Set<String> models = new HashSet<>();
      int finishes = 0;
      int finishAt = -1;
      List<Integer> usageAt = new ArrayList<>();
      for (int i = 0; i < chunks.size(); i++) {
        JsonObject c = chunks.get(i);
        ids.add(c.getString("id"));
        models.add(c.getString("model"));
        for (Object choice : c.getJsonArray("choices")) {
          if (((JsonObject) choice).getValue("finish_reason") != null) {
            finishes++;
            finishAt = i;
          }
        }
        if (c.getValue("usage") instanceof JsonObject) {
          usageAt.add(i);
          assertThat(c.getJsonArray("choices")).isEmpty();
        }
      }
      assertThat(ids).as(fixture).hasSize(1);
      assertThat(models).as(fixture).containsExactly("m");
      assertThat(finishes).as(fixture).isEqualTo(1);
      if (asked) {
        assertThat(usageAt).as(fixture).containsExactly(chunks.size() - 1);
        assertThat(finishAt).isLessThan(chunks.size() - 1);
      } else {
        assertThat(usageAt).as(fixture).isEmpty();
      }
      JsonObject sent = a.lastRequest().body();
      assertThat(sent.getJsonObject("stream_options").getBoolean("include_usage")).isTrue();
    }
  }

  @Test
  void b03_usageIsMeteredEvenWhenTheClientDidNotAsk() {
    a.then(sse(fixtureEvents("openai/openai-text.chunks.txt")));

    streamOf("\"stream_options\":{\"include_usage\":false}", "b03-metered");

    Row row = gateway.awaitUsageRow("b03-metered");
    assertThat(row.getLong("prompt_tokens")).isEqualTo(16);
    assertThat(row.getLong("completion_tokens")).isEqualTo(300);
    assertThat(row.getBoolean("tokens_estimated")).isFalse();
    assertThat(row.getLong("cost_micros")).isGreaterThan(0);
  }

  @Test
  void b06a_errorAfterOpeningEventFailsOverInvisibly() {
    int bCalls = b.calls();
    a.then(sse(List.of(Chunks.role(), Chunks.error("overloaded_error", "Overloaded")), 0, false));
    b.then(sse(List.of(Chunks.role(), Chunks.content("from b"), Chunks.finish("stop"))));

    try (SseClient client = SseClient.open(gateway, Chunks.request(true, ""))) {
      assertThat(client.status()).isEqualTo(200);
      assertThat(client.header("x-flopex-provider")).isEqualTo("b");
      assertThat(client.header("x-flopex-attempts")).isEqualTo("2");
      List<String> events = client.rest();
      assertThat(text(events)).isEqualTo("from b");
      assertThat(events).last().isEqualTo("[DONE]");
      assertThat(String.join("", events)).doesNotContain("error");
      long roles = events.stream().filter(e -> e.contains("\"role\"")).count();
      assertThat(roles).isEqualTo(1);
    }
    assertThat(b.calls()).isEqualTo(bCalls + 1);
  }

  @Test
  void b06b_cutAfterContentEndsWithInBandErrorAndNoSplice() {
    int bCalls = b.calls();
    List<String> tokens = new ArrayList<>();
    tokens.add(Chunks.role());
    for (int i = 0; i < 40; i++) {
      tokens.add(Chunks.content("t" + i + " "));
    }
    a.then(sse(tokens, 0, false));

    List<String> events = streamOf("", "b06b-cut");

    assertThat(text(events.subList(0, events.size() - 1))).startsWith("t0 t1 ").endsWith("t39 ");
    assertThat(events).doesNotContain("[DONE]");
    JsonObject error = new JsonObject(events.get(events.size() - 1)).getJsonObject("error");
    assertThat(error.getString("code")).isEqualTo("stream_interrupted");
    assertThat(b.calls()).isEqualTo(bCalls);
    Row row = gateway.awaitUsageRow("b06b-cut");
    assertThat(row.getString("outcome")).isEqualTo("stream_interrupted");
    assertThat(row.getBoolean("tokens_estimated")).isTrue();
    assertThat(row.getLong("completion_tokens")).isGreaterThan(0);
  }
}
