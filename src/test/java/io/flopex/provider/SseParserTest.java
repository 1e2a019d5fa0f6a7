package io.flopex.provider;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SseParserTest {

  private static final int CAP = 16 * 1024 * 1024;

  record Event(String name, String data) {}

  static final class Recorder implements SseParser.Listener {

    final List<Event> events = new ArrayList<>();
    final List<Integer> oversized = new ArrayList<>();

    @Override
    public void onEvent(String event, String data) {
      events.add(new Event(event, data));
    }

    @Override
    public void onOversized(int limit) {
      oversized.add(limit);
    }
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static Recorder parse(int cap, byte[]... pieces) {
    Recorder recorder = new Recorder();
    SseParser parser = new SseParser(cap, recorder);
    for (byte[] piece : pieces) {
      parser.feed(Buffer.buffer(piece));
    }
    return recorder;
  }

  private static Recorder parse(String... pieces) {
    byte[][] bytes = new byte[pieces.length][];
    for (int i = 0; i < pieces.length; i++) {
      bytes[i] = utf8(pieces[i]);
    }
    return parse(CAP, bytes);
  }

  private static Recorder parseSplit(byte[] whole, int... cuts) {
    byte[][] pieces = new byte[cuts.length + 1][];
    int from = 0;
    for (int i = 0; i < cuts.length; i++) {
      pieces[i] = Arrays.copyOfRange(whole, from, cuts[i]);
      from = cuts[i];
    }
    pieces[cuts.length] = Arrays.copyOfRange(whole, from, whole.length);
    return parse(CAP, pieces);
  }

  private static Recorder parseInChunks(byte[] whole, int chunkSize) {
    return parseInChunks(whole, chunkSize, CAP);
  }

  private static Recorder parseInChunks(byte[] whole, int chunkSize, int cap) {
    Recorder recorder = new Recorder();
    SseParser parser = new SseParser(cap, recorder);
    for (int from = 0; from < whole.length; from += chunkSize) {
      int to = Math.min(whole.length, from + chunkSize);
      parser.feed(Buffer.buffer(Arrays.copyOfRange(whole, from, to)));
    }
    return recorder;
  }

  @Test
  void wholeEventIsDispatchedWithDefaultName() {
    Recorder r = parse("data: {\"a\":1}\n\n");

    assertThat(r.events).containsExactly(new Event("message", "{\"a\":1}"));
    assertThat(r.oversized).isEmpty();
  }

  @Test
  void eventSplitAtEveryByteOffsetGivesTheSameEvents() {
    byte[] stream = utf8("event: delta\ndata: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n"
        + "data: tail\n\ndata: [DONE]\n\n");
    List<Event> expected = List.of(
        new Event("delta", "{\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\ntail"),
        new Event("message", "[DONE]"));
    assertThat(parse(CAP, stream).events).isEqualTo(expected);

    for (int cut = 0; cut <= stream.length; cut++) {
      assertThat(parseSplit(stream, cut).events).as("cut at %d", cut).isEqualTo(expected);
    }
  }

  @Test
  void eventInThreePiecesAtEveryPairOfOffsetsGivesTheSameEvents() {
    byte[] stream = utf8("data: {\"content\":\"split\"}\r\n\r\ndata: second\r\n\r\n");
    List<Event> expected = List.of(
        new Event("message", "{\"content\":\"split\"}"), new Event("message", "second"));

    for (int first = 0; first <= stream.length; first++) {
      for (int second = first; second <= stream.length; second++) {
        assertThat(parseSplit(stream, first, second).events)
            .as("cuts at %d and %d", first, second)
            .isEqualTo(expected);
      }
    }
  }

  @Test
  void streamFedOneByteAtATimeGivesTheSameEvents() {
    byte[] stream = utf8("event: a\ndata: 1\n\nevent: b\ndata: 2\n\n");

    assertThat(parseInChunks(stream, 1).events)
        .containsExactly(new Event("a", "1"), new Event("b", "2"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"\n", "\r\n", "\r"})
  void everyLineEndingIsAccepted(String eol) {
    String stream = "event: e" + eol + "data: one" + eol + "data: two" + eol + eol
        + "data: three" + eol + eol;
    List<Event> expected = List.of(new Event("e", "one\ntwo"), new Event("message", "three"));

    assertThat(parse(stream).events).isEqualTo(expected);
    byte[] bytes = utf8(stream);
    for (int cut = 0; cut <= bytes.length; cut++) {
      assertThat(parseSplit(bytes, cut).events).as("cut at %d", cut).isEqualTo(expected);
    }
  }

  @Test
  void crlfSplitBetweenCrAndLfIsOneLineEnd() {
    Recorder r = parse("data: a\r", "\ndata: b\r", "\n\r", "\n");

    assertThat(r.events).containsExactly(new Event("message", "a\nb"));
  }

  @Test
  void crAtEndOfOneFeedFollowedByTextIsALineEnd() {
    Recorder r = parse("data: a\r", "data: b\r", "\r");

    assertThat(r.events).containsExactly(new Event("message", "a\nb"));
  }

  @Test
  void twoCrsAreTwoLineEnds() {
    assertThat(parse("data: a\r\rdata: b\r\r").events)
        .containsExactly(new Event("message", "a"), new Event("message", "b"));
  }

  @Test
  void mixedLineEndingsInOneStream() {
    Recorder r = parse("data: a\r\n\ndata: b\n\r\ndata: c\r\r\n");

    assertThat(r.events).containsExactly(
        new Event("message", "a"), new Event("message", "b"), new Event("message", "c"));
  }

  @Test
  void commentLinesAreIgnored() {
    Recorder r = parse(": keep-alive\n\n:\n\ndata: a\n: inside the event\ndata: b\n\n");

    assertThat(r.events).containsExactly(new Event("message", "a\nb"));
  }

  @Test
  void commentOnlyStreamDispatchesNothing() {
    assertThat(parse(": OPENROUTER PROCESSING\n\n: ping\r\n\r\n").events).isEmpty();
  }

  @Test
  void eventFieldNamesTheEvent() {
    Recorder r = parse("event: content_block_delta\ndata: {}\n\n");

    assertThat(r.events).containsExactly(new Event("content_block_delta", "{}"));
  }

  @Test
  void eventNameDoesNotCarryOverToTheNextEvent() {
    Recorder r = parse("event: first\ndata: 1\n\ndata: 2\n\n");

    assertThat(r.events).containsExactly(new Event("first", "1"), new Event("message", "2"));
  }

  @Test
  void lastEventFieldWins() {
    assertThat(parse("event: a\nevent: b\ndata: x\n\n").events)
        .containsExactly(new Event("b", "x"));
  }

  @Test
  void multipleDataLinesAreJoinedWithNewlines() {
    Recorder r = parse("data: first\ndata: second\ndata:\ndata: fourth\n\n");

    assertThat(r.events).containsExactly(new Event("message", "first\nsecond\n\nfourth"));
  }

  @Test
  void onlyOneLeadingSpaceIsRemovedFromTheValue() {
    Recorder r = parse("data:x\n\ndata:  y\n\ndata: a: b\n\n");

    assertThat(r.events).extracting(Event::data).containsExactly("x", " y", "a: b");
  }

  @Test
  void dataFieldWithoutColonIsEmptyData() {
    assertThat(parse("data\n\n").events).containsExactly(new Event("message", ""));
  }

  @Test
  void unknownFieldsAreIgnored() {
    Recorder r = parse("id: 7\nretry: 1000\nfoo: bar\ndata: x\n\n");

    assertThat(r.events).containsExactly(new Event("message", "x"));
  }

  @Test
  void eventWithoutDataIsNotDispatched() {
    Recorder r = parse("event: ping\n\nid: 3\n\nretry: 10\n\n\n\n");

    assertThat(r.events).isEmpty();
  }

  @Test
  void eventNameOfADatalessEventDoesNotLeakIntoTheNext() {
    Recorder r = parse("event: ping\n\ndata: x\n\n");

    assertThat(r.events).containsExactly(new Event("message", "x"));
  }

  @Test
  void eventIsDispatchedOnlyOnceItsBlankLineArrives() {
    Recorder recorder = new Recorder();
    SseParser parser = new SseParser(CAP, recorder);

    parser.feed(Buffer.buffer("data: x\n"));
    assertThat(recorder.events).isEmpty();

    parser.feed(Buffer.buffer("\n"));
    assertThat(recorder.events).containsExactly(new Event("message", "x"));
  }

  @Test
  void multiByteCharactersSplitAtEveryOffsetStayIntact() {
    String text = "가나다🙂é";
    byte[] stream = utf8("data: {\"content\":\"" + text + "\"}\n\n");
    Event expected = new Event("message", "{\"content\":\"" + text + "\"}");

    for (int cut = 0; cut <= stream.length; cut++) {
      Recorder r = parseSplit(stream, cut);
      assertThat(r.events).as("cut at %d", cut).containsExactly(expected);
      assertThat(r.events.get(0).data()).doesNotContain("\uFFFD");
    }
  }

  @Test
  void multiByteCharactersSplitAtEveryPairOfOffsetsStayIntact() {
    String text = "가나다🙂é";
    byte[] stream = utf8("data: " + text + "\n\n");

    for (int first = 0; first <= stream.length; first++) {
      for (int second = first; second <= stream.length; second++) {
        assertThat(parseSplit(stream, first, second).events)
            .as("cuts at %d and %d", first, second)
            .containsExactly(new Event("message", text));
      }
    }
  }

  @Test
  void multiByteCharactersFedOneByteAtATimeStayIntact() {
    String text = "가나다🙂é".repeat(50);

    assertThat(parseInChunks(utf8("data: " + text + "\n\n"), 1).events)
        .containsExactly(new Event("message", text));
  }

  @Test
  void dataLineOf300KilobytesPassesIntact() {
    String payload = largePayload(300 * 1024);
    byte[] stream = utf8("data: " + payload + "\n\ndata: after\n\n");

    Recorder r = parseInChunks(stream, 8 * 1024 + 3);

    assertThat(r.oversized).isEmpty();
    assertThat(r.events).hasSize(2);
    assertThat(r.events.get(0).data()).isEqualTo(payload);
    assertThat(r.events.get(1)).isEqualTo(new Event("message", "after"));
  }

  @Test
  void dataLineOf2MegabytesPassesIntact() {
    String payload = largePayload(2 * 1024 * 1024);
    byte[] stream = utf8("data: " + payload + "\n\ndata: after\n\n");

    Recorder r = parseInChunks(stream, 64 * 1024 + 1);

    assertThat(r.oversized).isEmpty();
    assertThat(r.events).hasSize(2);
    assertThat(r.events.get(0).data()).isEqualTo(payload);
    assertThat(r.events.get(1)).isEqualTo(new Event("message", "after"));
  }

  @Test
  void dataLineOf2MegabytesInOneFeedPassesIntact() {
    String payload = largePayload(2 * 1024 * 1024);

    Recorder r = parse(CAP, utf8("data: " + payload + "\n\n"));

    assertThat(r.events).extracting(Event::data).containsExactly(payload);
  }

  private static String largePayload(int minBytes) {
    String unit = "{\"delta\":\"abc가🙂é\"}";
    String payload = unit.repeat(minBytes / utf8(unit).length + 1);
    assertThat(utf8(payload).length).isGreaterThanOrEqualTo(minBytes);
    return payload;
  }

  @Test
  void eventWellBelowTheCapPasses() {
    int cap = 1024;
    String payload = "x".repeat(cap - 10);

    Recorder r = parse(cap, utf8("data:" + payload + "\n\n"));

    assertThat(r.oversized).isEmpty();
    assertThat(r.events).extracting(Event::data).containsExactly(payload);
  }

  @Test
  void oversizedEventIsReportedOnceAndNothingAfter() {
    int cap = 1024;
    byte[] stream = utf8("data: small\n\ndata: " + "x".repeat(cap + 1) + "\n\n"
        + "data: later\n\ndata: " + "y".repeat(cap * 3) + "\n\n");

    Recorder r = parse(cap, stream);

    assertThat(r.events).containsExactly(new Event("message", "small"));
    assertThat(r.oversized).containsExactly(cap);
  }

  @Test
  void oversizedEventSplitAcrossFeedsIsReportedOnceAndNothingAfter() {
    int cap = 1024;
    byte[] stream = utf8("data: small\n\ndata: " + "x".repeat(cap * 4) + "\n\n"
        + "data: later\n\n");

    for (int chunk : new int[] {1, 7, 100, 1000}) {
      Recorder r = parseInChunks(stream, chunk, cap);
      assertThat(r.events).as("chunk %d", chunk).containsExactly(new Event("message", "small"));
      assertThat(r.oversized).as("chunk %d", chunk).containsExactly(cap);
    }
  }

  @Test
  void feedingAfterOversizedReportsNothingMore() {
    int cap = 1024;
    Recorder recorder = new Recorder();
    SseParser parser = new SseParser(cap, recorder);

    parser.feed(Buffer.buffer("data: " + "x".repeat(cap * 2) + "\n\n"));
    parser.feed(Buffer.buffer("data: next\n\n"));
    parser.feed(Buffer.buffer("data: " + "z".repeat(cap * 2) + "\n\n"));

    assertThat(recorder.events).isEmpty();
    assertThat(recorder.oversized).containsExactly(cap);
  }

  @Test
  void oversizedLineIsReportedBeforeItsLineEndArrives() {
    int cap = 1024;
    Recorder recorder = new Recorder();
    SseParser parser = new SseParser(cap, recorder);

    parser.feed(Buffer.buffer("data: " + "x".repeat(cap * 2)));

    assertThat(recorder.oversized).containsExactly(cap);
    assertThat(recorder.events).isEmpty();
  }

  @Test
  void manyDataLinesAddingUpAboveTheCapAreOversized() {
    int cap = 1024;
    String line = "data: " + "x".repeat(200) + "\n";

    Recorder r = parse(cap, utf8(line.repeat(10) + "\n"));

    assertThat(r.events).isEmpty();
    assertThat(r.oversized).containsExactly(cap);
  }

  @Test
  void capAppliesPerEventNotPerStream() {
    int cap = 1024;
    String event = "data: " + "x".repeat(600) + "\n\n";

    Recorder r = parse(cap, utf8(event.repeat(20)));

    assertThat(r.oversized).isEmpty();
    assertThat(r.events).hasSize(20);
  }
}
