package io.flopex.bench.jmh;

import io.flopex.provider.SseParser;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Reading an upstream stream: {@link SseParser} over a whole OpenAI chat-completions stream (64
 * content chunks, a finish chunk, a usage chunk and {@code [DONE]}, 67 events, about 22 KB),
 * with a fresh parser per stream as the provider verticle makes one per response. Scores are
 * per event.
 *
 * <p>{@code split} is how the bytes arrive: {@code stream}, all in one buffer; {@code event},
 * one buffer per event, as a provider flushing each event shows up on the wire; {@code 512} and
 * {@code 64}, fixed-size pieces that cut events (and lines) at arbitrary points.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx256m", "-XX:+UseG1GC"})
public class SseParserBenchmark {

  @Param({"stream", "event", "512", "64"})
  public String split;

  private Buffer[] pieces;

  @Setup
  public void setUp() {
    String sse = Payloads.openAiSse();
    List<Buffer> out = new ArrayList<>();
    switch (split) {
      case "stream" -> out.add(Buffer.buffer(sse));
      case "event" -> {
        for (String event : sse.split("(?<=\n\n)")) {
          out.add(Buffer.buffer(event));
        }
      }
      default -> {
        byte[] bytes = sse.getBytes(StandardCharsets.UTF_8);
        int size = Integer.parseInt(split);
        for (int at = 0; at < bytes.length; at += size) {
          out.add(Buffer.buffer().appendBytes(bytes, at, Math.min(size, bytes.length - at)));
        }
      }
    }
    pieces = out.toArray(new Buffer[0]);
    // Fail the trial at once if the payload or the split ever stops yielding every event.
    Counting check = new Counting(null, false);
    SseParser parser = new SseParser(Payloads.MAX_EVENT_BYTES, check);
    for (Buffer piece : pieces) {
      parser.feed(piece);
    }
    if (check.events != Payloads.OPENAI_SSE_EVENTS) {
      throw new IllegalStateException("parsed " + check.events + " events, expected "
          + Payloads.OPENAI_SSE_EVENTS);
    }
  }

  /** Framing only: events and their data as strings. */
  @Benchmark
  @OperationsPerInvocation(Payloads.OPENAI_SSE_EVENTS)
  public int parse(Blackhole bh) {
    Counting listener = new Counting(bh, false);
    SseParser parser = new SseParser(Payloads.MAX_EVENT_BYTES, listener);
    for (Buffer piece : pieces) {
      parser.feed(piece);
    }
    return listener.events;
  }

  /**
   * Framing and each payload decoded into a {@link JsonObject}, all the work the provider
   * verticle does per upstream event before handing it to the ingress.
   */
  @Benchmark
  @OperationsPerInvocation(Payloads.OPENAI_SSE_EVENTS)
  public int parseAndDecode(Blackhole bh) {
    Counting listener = new Counting(bh, true);
    SseParser parser = new SseParser(Payloads.MAX_EVENT_BYTES, listener);
    for (Buffer piece : pieces) {
      parser.feed(piece);
    }
    return listener.events;
  }

  /** Hands every event to the blackhole, decoding its JSON when asked. */
  private static final class Counting implements SseParser.Listener {

    private final Blackhole bh;
    private final boolean decode;
    int events;

    Counting(Blackhole bh, boolean decode) {
      this.bh = bh;
      this.decode = decode;
    }

    @Override
    public void onEvent(String event, String data) {
      events++;
      if (bh == null) {
        return;
      }
      bh.consume(event);
      if (decode && !data.equals("[DONE]")) {
        bh.consume(Buffer.buffer(data).toJsonValue());
      } else {
        bh.consume(data);
      }
    }

    @Override
    public void onOversized(int limit) {
      throw new IllegalStateException("event over " + limit + " bytes");
    }
  }
}
