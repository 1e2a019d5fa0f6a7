package io.flopex.bench.jmh;

import io.flopex.bus.Usage;
import io.flopex.config.ProviderKind;
import io.flopex.translate.ClientEvent;
import io.flopex.translate.ClientFormat;
import io.flopex.translate.StreamTranslator;
import io.flopex.translate.Translator;
import io.flopex.translate.Translators;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Translating a stream, event by event, as the ingress does for every upstream event of a
 * streamed answer: a fresh {@link StreamTranslator} per stream, {@code accept} for each decoded
 * upstream event, then {@code end} with the usage upstream reported. Scores are per upstream
 * event (66 for an OpenAI stream, whose {@code [DONE]} never reaches the translator; 70 for an
 * Anthropic one), with the closing events counted in.
 *
 * <p>With {@code frame} set, every client event is also framed for the wire ({@link
 * ClientEvent#frame()}, which encodes its JSON), the rest of the gateway's work per event before
 * the socket write.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx256m", "-XX:+UseG1GC"})
public class StreamTranslationBenchmark {

  @Param({"false", "true"})
  public boolean frame;

  private final Translator chatToOpenAi =
      Translators.forPair(ClientFormat.OPENAI_CHAT, ProviderKind.OPENAI);
  private final Translator chatToAnthropic =
      Translators.forPair(ClientFormat.OPENAI_CHAT, ProviderKind.ANTHROPIC);
  private final Translator messagesToOpenAi =
      Translators.forPair(ClientFormat.ANTHROPIC_MESSAGES, ProviderKind.OPENAI);
  private final Translator responsesToOpenAi =
      Translators.forPair(ClientFormat.OPENAI_RESPONSES, ProviderKind.OPENAI);

  private String[] openAiNames;
  private JsonObject[] openAiEvents;
  private String[] anthropicNames;
  private JsonObject[] anthropicEvents;
  private Translator.StreamContext chatContext;
  private Translator.StreamContext responsesContext;
  private String eventsAtStart;

  @Setup
  public void setUp() {
    List<String> chunks = Payloads.openAiChunks();
    openAiNames = new String[chunks.size()];
    openAiEvents = new JsonObject[chunks.size()];
    for (int i = 0; i < chunks.size(); i++) {
      // The parser names an unnamed event "message".
      openAiNames[i] = "message";
      openAiEvents[i] = Payloads.decoded(chunks.get(i));
    }
    List<String[]> events = Payloads.anthropicEvents();
    anthropicNames = new String[events.size()];
    anthropicEvents = new JsonObject[events.size()];
    for (int i = 0; i < events.size(); i++) {
      anthropicNames[i] = events.get(i)[0];
      anthropicEvents[i] = Payloads.decoded(events.get(i)[1]);
    }
    chatContext = new Translator.StreamContext("chatcmpl-flopex-7Qm2", Payloads.CLIENT_MODEL,
        true);
    responsesContext = new Translator.StreamContext("chatcmpl-flopex-7Qm2",
        Payloads.CLIENT_MODEL, false, Payloads.decoded(Payloads.responsesRequest()));
    eventsAtStart = events();
  }

  /** One copy of each event serves every stream only because translators never change it. */
  @TearDown
  public void checkEventsUnchanged() {
    if (!events().equals(eventsAtStart)) {
      throw new IllegalStateException("a translator changed an event; the scores are void");
    }
  }

  private String events() {
    StringBuilder out = new StringBuilder();
    for (JsonObject event : openAiEvents) {
      out.append(event.encode());
    }
    for (JsonObject event : anthropicEvents) {
      out.append(event.encode());
    }
    return out.append(responsesContext.clientRequest().encode()).toString();
  }

  /** OpenAI chunks relayed to an OpenAI Chat Completions client. */
  @Benchmark
  @OperationsPerInvocation(Payloads.OPENAI_JSON_EVENTS)
  public long openAiToChat(Blackhole bh) {
    return run(chatToOpenAi.stream(chatContext), openAiNames, openAiEvents, bh);
  }

  /** Anthropic events as OpenAI chunks for a Chat Completions client. */
  @Benchmark
  @OperationsPerInvocation(Payloads.ANTHROPIC_EVENTS)
  public long anthropicToChat(Blackhole bh) {
    return run(chatToAnthropic.stream(chatContext), anthropicNames, anthropicEvents, bh);
  }

  /** OpenAI chunks as Anthropic events for a Messages client. */
  @Benchmark
  @OperationsPerInvocation(Payloads.OPENAI_JSON_EVENTS)
  public long openAiToMessages(Blackhole bh) {
    return run(messagesToOpenAi.stream(chatContext), openAiNames, openAiEvents, bh);
  }

  /** OpenAI chunks as Responses events (a delta event per chunk, snapshots at both ends). */
  @Benchmark
  @OperationsPerInvocation(Payloads.OPENAI_JSON_EVENTS)
  public long openAiToResponses(Blackhole bh) {
    return run(responsesToOpenAi.stream(responsesContext), openAiNames, openAiEvents, bh);
  }

  private long run(StreamTranslator translator, String[] names, JsonObject[] events,
      Blackhole bh) {
    long out = 0;
    for (int i = 0; i < events.length; i++) {
      out += emit(translator.accept(names[i], events[i]), bh);
    }
    Usage usage = translator.reportedUsage();
    out += emit(translator.end(usage != null ? usage : Usage.NONE), bh);
    return out + translator.deliveredChars();
  }

  private int emit(List<ClientEvent> events, Blackhole bh) {
    for (ClientEvent event : events) {
      if (frame) {
        Buffer wire = event.frame();
        bh.consume(wire);
      } else {
        bh.consume(event);
      }
    }
    return events.size();
  }
}
