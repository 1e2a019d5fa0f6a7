package io.flopex.usage;

import io.flopex.bus.AttemptRecord;
import io.flopex.bus.Failure;
import io.flopex.bus.ProviderFailure;
import io.flopex.bus.Usage;
import io.flopex.bus.UsageRecord;
import io.flopex.config.EndpointConfig;
import io.flopex.config.FlopexConfig;
import io.flopex.config.ModelConfig;
import io.flopex.config.ProviderConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Turns each finished request's {@link UsageRecord} into meters: the OpenTelemetry GenAI ones
 * ({@code gen_ai.*}) and Flopex's own ({@code flopex.*}). See docs/operations.md for the list.
 *
 * <p>Every label value is bounded by the configuration: a model id the configuration does not
 * declare (clients may send any name) becomes {@value #UNKNOWN}, a request no provider served
 * has provider {@value #NONE}, and upstream failure labels are folded to a fixed set. Nothing
 * that identifies an account, a key or a request is ever a label. Meters are looked up once per
 * label combination and kept. Confined to the usage verticle's event loop.
 */
final class UsageMeters {

  static final String UNKNOWN = "unknown";
  static final String NONE = "none";
  static final String SUCCESS = "success";

  private static final String OPERATION = "chat";
  /** OpenTelemetry's advice for token counts: powers of 4 from 1 to 64 Mi. */
  private static final double[] TOKEN_BUCKETS = {1, 4, 16, 64, 256, 1024, 4096, 16384, 65536,
      262144, 1048576, 4194304, 16777216, 67108864};
  /** OpenTelemetry's advice for request durations, in seconds. */
  private static final Duration[] DURATION_BUCKETS = seconds(0.01, 0.02, 0.04, 0.08, 0.16,
      0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92);
  /** OpenTelemetry's advice for time to first token, in seconds. */
  private static final Duration[] FIRST_TOKEN_BUCKETS = seconds(0.001, 0.005, 0.01, 0.02, 0.04,
      0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0);
  /** Upstream statuses kept as their own label; any other becomes its class. */
  private static final Set<Integer> KNOWN_STATUSES =
      Set.of(400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 502, 503, 504, 529);

  private final MeterRegistry registry;
  private final Set<String> models = new HashSet<>();
  private final Set<String> providers = new HashSet<>();
  private final Set<String> upstreamModels = new HashSet<>();
  private final Set<String> outcomes = new HashSet<>();
  private final Map<RequestKey, RequestMeters> requests = new HashMap<>();
  private final Map<AttemptKey, Timer> attempts = new HashMap<>();
  private final Map<AttemptKey, Counter> failovers = new HashMap<>();
  private final Counter droppedRows;

  private record RequestKey(String model, String provider, String upstreamModel,
      String outcome) {}

  private record AttemptKey(String model, String provider, String upstreamModel,
      String outcome) {}

  /**
   * The meters one label combination of a finished request moves; the token and first-token
   * ones are null when no provider served it.
   */
  private record RequestMeters(Counter requests, Timer duration, Counter cost,
      DistributionSummary inputTokens, DistributionSummary outputTokens, Timer firstToken) {}

  UsageMeters(MeterRegistry registry, FlopexConfig config, UsageBacklog backlog) {
    this.registry = registry;
    for (ProviderConfig provider : config.providers()) {
      providers.add(provider.id());
    }
    for (ModelConfig model : config.models()) {
      models.add(model.id());
      for (EndpointConfig endpoint : model.endpoints()) {
        upstreamModels.add(endpoint.upstreamModel());
      }
    }
    outcomes.add(SUCCESS);
    for (Failure failure : Failure.values()) {
      outcomes.add(failure.key());
    }
    for (ProviderFailure.Kind kind : ProviderFailure.Kind.values()) {
      outcomes.add(ProviderFailure.of(kind).label());
    }
    droppedRows = Counter.builder("flopex.usage.rows.dropped")
        .description("Usage rows the database refused for their content (logged by id)")
        .register(registry);
    io.micrometer.core.instrument.Gauge.builder("flopex.usage.backlog", backlog,
            UsageBacklog::size)
        .description("Usage rows waiting to be written; at usage.maxPending new chat requests"
            + " are refused")
        .register(registry);
  }

  void dropped() {
    droppedRows.increment();
  }

  void record(UsageRecord record) {
    String model = bounded(record.model(), models, UNKNOWN);
    String provider = bounded(record.provider(), providers, NONE);
    String upstream = provider.equals(NONE) ? NONE
        : bounded(record.upstreamModel(), upstreamModels, NONE);
    String outcome = bounded(record.outcome(), outcomes, "other");
    RequestMeters meters = requests.computeIfAbsent(
        new RequestKey(model, provider, upstream, outcome), this::requestMeters);
    meters.requests().increment();
    meters.duration().record(record.latencyMs(), TimeUnit.MILLISECONDS);
    if (record.costMicros() > 0) {
      meters.cost().increment(record.costMicros());
    }
    Usage usage = record.usage();
    if (meters.inputTokens() != null && usage != null) {
      meters.inputTokens().record(usage.promptTokens());
      meters.outputTokens().record(usage.completionTokens());
    }
    if (meters.firstToken() != null && record.streamed() && outcome.equals(SUCCESS)
        && record.ttfbMs() > 0) {
      meters.firstToken().record(record.ttfbMs(), TimeUnit.MILLISECONDS);
    }
    List<AttemptRecord> tried = record.attempts();
    for (int i = 0; i < tried.size(); i++) {
      AttemptRecord attempt = tried.get(i);
      AttemptKey key = new AttemptKey(model, bounded(attempt.provider(), providers, NONE),
          bounded(attempt.upstreamModel(), upstreamModels, NONE),
          attemptOutcome(attempt.outcome()));
      attempts.computeIfAbsent(key, this::attemptTimer)
          .record(attempt.latencyMs(), TimeUnit.MILLISECONDS);
      if (i < tried.size() - 1) {
        // Another attempt followed this one: the request failed over away from this provider.
        failovers.computeIfAbsent(new AttemptKey(model, key.provider(), NONE, NONE),
            k -> Counter.builder("flopex.failovers")
                .description("Attempts beyond a request's first, by the provider failed over from")
                .tags("model", k.model(), "provider", k.provider())
                .register(registry))
            .increment();
      }
    }
  }

  private RequestMeters requestMeters(RequestKey key) {
    Tags genAi = Tags.of("gen_ai.operation.name", OPERATION,
        "gen_ai.request.model", key.model(), "gen_ai.provider.name", key.provider());
    Tags tokens = genAi.and("gen_ai.response.model", key.upstreamModel());
    boolean served = !key.provider().equals(NONE);
    return new RequestMeters(
        Counter.builder("flopex.requests")
            .description("Finished chat requests")
            .tags("model", key.model(), "provider", key.provider(), "outcome", key.outcome())
            .register(registry),
        Timer.builder("gen_ai.server.request.duration")
            .description("Time from a chat request's arrival to its last byte")
            .tags(genAi.and("error.type", key.outcome().equals(SUCCESS) ? "" : key.outcome()))
            .serviceLevelObjectives(DURATION_BUCKETS)
            .register(registry),
        Counter.builder("flopex.cost.micro_usd")
            .description("Cost charged for chat requests, in micro-USD")
            .tags("model", key.model(), "provider", key.provider())
            .register(registry),
        served ? tokenUsage(tokens.and("gen_ai.token.type", "input")) : null,
        served ? tokenUsage(tokens.and("gen_ai.token.type", "output")) : null,
        served ? Timer.builder("gen_ai.server.time_to_first_token")
            .description("Time from a streamed chat request's arrival to its first content")
            .tags(genAi)
            .serviceLevelObjectives(FIRST_TOKEN_BUCKETS)
            .register(registry) : null);
  }

  private DistributionSummary tokenUsage(Tags tags) {
    return DistributionSummary.builder("gen_ai.client.token.usage")
        .description("Tokens of one chat request, input (prompt) or output (completion)")
        .tags(tags)
        .serviceLevelObjectives(TOKEN_BUCKETS)
        .register(registry);
  }

  private Timer attemptTimer(AttemptKey key) {
    return Timer.builder("gen_ai.client.operation.duration")
        .description("Time one attempt at an upstream endpoint took")
        .tags("gen_ai.operation.name", OPERATION, "gen_ai.request.model", key.model(),
            "gen_ai.provider.name", key.provider(), "gen_ai.response.model", key.upstreamModel(),
            "error.type", key.outcome().equals(SUCCESS) ? "" : key.outcome())
        .serviceLevelObjectives(DURATION_BUCKETS)
        .register(registry);
  }

  /**
   * An attempt's outcome as a label: success, a failure kind, or {@code http_<status>} for the
   * statuses worth telling apart and {@code http_4xx}/{@code http_5xx} for the rest, since an
   * upstream may answer with any number.
   */
  private String attemptOutcome(String outcome) {
    if (outcome == null) {
      return "other";
    }
    if (outcome.startsWith("http_")) {
      int status;
      try {
        status = Integer.parseInt(outcome.substring(5));
      } catch (NumberFormatException e) {
        return "other";
      }
      return KNOWN_STATUSES.contains(status) ? outcome
          : status >= 400 && status < 600 ? "http_" + status / 100 + "xx" : "http_other";
    }
    return outcomes.contains(outcome) ? outcome : "other";
  }

  private static String bounded(String value, Set<String> known, String otherwise) {
    return value != null && known.contains(value) ? value : otherwise;
  }

  private static Duration[] seconds(double... values) {
    Duration[] out = new Duration[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = Duration.ofNanos(Math.round(values[i] * 1_000_000_000));
    }
    return out;
  }
}
