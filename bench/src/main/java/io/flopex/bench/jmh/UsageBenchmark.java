package io.flopex.bench.jmh;

import io.flopex.bus.Usage;
import io.flopex.config.Pricing;
import io.flopex.translate.anthropic.AnthropicUsageTracker;
import io.flopex.translate.openai.OpenAiUsage;
import io.flopex.usage.CostCalculator;
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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Metering: reading the usage a provider reports, writing it back in OpenAI's shape, and pricing
 * it. Every answer pays each of these once, except the Anthropic stream tracker, which reads
 * every event of the stream (scored per event).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx256m", "-XX:+UseG1GC"})
public class UsageBenchmark {

  private Object openAiUsage;
  private Object anthropicUsage;
  private String[] anthropicTypes;
  private JsonObject[] anthropicEvents;
  private Usage plain;
  private Usage cachedWithReasoning;
  private Pricing basePricing;
  private Pricing fullPricing;

  @Setup
  public void setUp() {
    openAiUsage = Payloads.decoded(Payloads.openAiUsage(1_184, 97, 1_024, 0));
    anthropicUsage = Payloads.decoded(Payloads.anthropicUsage(1_184, 97));
    List<String[]> events = Payloads.anthropicEvents();
    anthropicTypes = new String[events.size()];
    anthropicEvents = new JsonObject[events.size()];
    for (int i = 0; i < events.size(); i++) {
      anthropicTypes[i] = events.get(i)[0];
      anthropicEvents[i] = Payloads.decoded(events.get(i)[1]);
    }
    plain = new Usage(1_184, 97, 0, 0, false);
    cachedWithReasoning = new Usage(12_480, 2_311, 8_192, 1_024, 1_536, false);
    // USD 0.40 / 1.60 per million prompt / completion tokens, cache reads at 0.10.
    basePricing = new Pricing(400_000, 1_600_000, 100_000);
    // USD 3 / 15 per million, cache reads at 0.30, writes at 3.75, reasoning at 15.
    fullPricing = new Pricing(3_000_000, 15_000_000, 300_000, 3_750_000, 15_000_000);
  }

  /** An OpenAI {@code usage} object, with its detail objects, read into a {@link Usage}. */
  @Benchmark
  public Usage readOpenAi() {
    return Usage.fromOpenAi(openAiUsage);
  }

  /** An Anthropic {@code usage} object, with its cache fields, read into a {@link Usage}. */
  @Benchmark
  public Usage readAnthropic() {
    return Usage.fromAnthropic(anthropicUsage);
  }

  /**
   * A whole Anthropic stream through the tracker that collects its usage from {@code
   * message_start} and {@code message_delta}; scored per event.
   */
  @Benchmark
  @OperationsPerInvocation(Payloads.ANTHROPIC_EVENTS)
  public Usage trackAnthropicStream() {
    AnthropicUsageTracker tracker = new AnthropicUsageTracker();
    for (int i = 0; i < anthropicEvents.length; i++) {
      tracker.read(anthropicTypes[i], anthropicEvents[i]);
    }
    return tracker.usage();
  }

  /** Usage written as OpenAI's {@code usage} object, as every OpenAI-dialect answer carries. */
  @Benchmark
  public JsonObject writeOpenAi() {
    return OpenAiUsage.toJson(cachedWithReasoning);
  }

  /** The cost of a plain answer: prompt and completion tokens only. */
  @Benchmark
  public long costPlain() {
    return CostCalculator.costMicros(plain, basePricing);
  }

  /** The cost of an answer with every token class: cache reads and writes and reasoning. */
  @Benchmark
  public long costCachedWithReasoning() {
    return CostCalculator.costMicros(cachedWithReasoning, fullPricing);
  }
}
