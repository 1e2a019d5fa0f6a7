package io.flopex.ingress;

import io.flopex.bus.Failure;
import io.flopex.bus.ProviderPreferences;
import io.flopex.config.RequestParameters;
import io.flopex.translate.ClientFormat;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Checks a Chat Completions request before anything is sent upstream, and decides what is
 * forwarded.
 *
 * <p>The policy for fields, the same for every provider: fields of the Chat Completions API are
 * checked and forwarded; fields that would redirect Flopex ({@code api_base}, {@code base_url},
 * {@code api_key}...) are refused with a 400 naming them; any other field is dropped and named in
 * the {@code x-flopex-warnings} response header, so no upstream ever sees a field it might refuse
 * or misread.
 */
public final class ChatRequestValidator {

  /**
   * The request to forward, the dialect it is written in, the warnings to send back, and the
   * models to fall back on, in order, when every endpoint of the requested one fails. {@code
   * original} is the request as the client wrote it, when the dialect's requests are turned into
   * Chat Completions before they are routed (the Responses API); otherwise it is {@code request}.
   */
  public record Validated(
      JsonObject request,
      List<String> warnings,
      ClientFormat format,
      List<String> fallbackModels,
      ProviderPreferences preferences,
      JsonObject original) {

    public Validated(JsonObject request, List<String> warnings, ClientFormat format,
        List<String> fallbackModels, ProviderPreferences preferences) {
      this(request, warnings, format, fallbackModels, preferences, request);
    }

    public Validated(JsonObject request, List<String> warnings) {
      this(request, warnings, ClientFormat.OPENAI_CHAT, List.of(), ProviderPreferences.NONE);
    }

    public Validated(JsonObject request, List<String> warnings, ClientFormat format) {
      this(request, warnings, format, List.of(), ProviderPreferences.NONE);
    }

    public String model() {
      return request.getString("model");
    }

    public boolean stream() {
      return Boolean.TRUE.equals(request.getBoolean("stream"));
    }

    public boolean includeUsage() {
      return format == ClientFormat.OPENAI_CHAT
          && request.getValue("stream_options") instanceof JsonObject o
          && Boolean.TRUE.equals(o.getValue("include_usage"));
    }
  }

  static final Set<String> FORWARDED = Set.of(
      "model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens",
      "temperature", "top_p", "n", "stop", "presence_penalty", "frequency_penalty", "logit_bias",
      "logprobs", "top_logprobs", "user", "seed", "tools", "tool_choice", "parallel_tool_calls",
      "response_format", "reasoning_effort", "service_tier", "store", "metadata", "modalities",
      "audio", "prediction", "web_search_options", "verbosity", "prompt_cache_key",
      "safety_identifier", "functions", "function_call");

  static final Set<String> REFUSED = Set.of(
      "api_base", "base_url", "api_key", "api_version", "custom_llm_provider", "extra_headers",
      "headers", "endpoint", "url");

  private static final Set<String> ROLES =
      Set.of("system", "developer", "user", "assistant", "tool", "function");

  static final int MAX_MODEL_LENGTH = 256;
  static final int MAX_FALLBACK_MODELS = 8;
  /** Warnings beyond this many are counted, not listed, to keep the header small. */
  static final int MAX_WARNINGS = 10;

  private ChatRequestValidator() {}

  public static Validated validate(Buffer raw) {
    Object parsed;
    try {
      parsed = raw == null || raw.length() == 0 ? null : raw.toJsonValue();
    } catch (DecodeException e) {
      throw new ApiError(Failure.INVALID_JSON, "The request body is not valid JSON.", null);
    }
    if (!(parsed instanceof JsonObject body)) {
      throw new ApiError(Failure.INVALID_JSON,
          "The request body must be a JSON object with 'model' and 'messages'.", null);
    }
    Map<String, Object> forwarded = new LinkedHashMap<>();
    List<String> warnings = new ArrayList<>();
    for (Map.Entry<String, Object> field : body) {
      String name = field.getKey();
      if (name.equals("models") || name.equals("provider")) {
        continue;
      }
      if (REFUSED.contains(name)) {
        throw new ApiError(Failure.INVALID_REQUEST, "'" + name + "' is not accepted: Flopex"
            + " sends requests only to the providers it is configured with.", name);
      }
      if (FORWARDED.contains(name)) {
        forwarded.put(name, field.getValue());
      } else {
        warnings.add("unsupported field '" + printable(name) + "' was dropped");
      }
    }
    capWarnings(warnings);
    JsonObject request = new JsonObject(forwarded);
    checkModel(request);
    checkFinite(request);
    checkMessages(request);
    optionalType(request, "stream", Boolean.class, "a boolean");
    optionalType(request, "stream_options", JsonObject.class, "an object");
    if (request.getValue("stream_options") instanceof JsonObject o) {
      optionalType(o, "include_usage", Boolean.class, "a boolean", "stream_options.");
    }
    positiveInt(request, "n", 128);
    positiveInt(request, "max_tokens", Integer.MAX_VALUE);
    positiveInt(request, "max_completion_tokens", Integer.MAX_VALUE);
    range(request, "temperature", 0, 2);
    range(request, "top_p", 0, 1);
    optionalType(request, "tools", JsonArray.class, "an array");
    if (request.containsKey("stop")) {
      Object stop = request.getValue("stop");
      if (stop != null && !(stop instanceof String) && !(stop instanceof JsonArray)) {
        throw new ApiError(Failure.INVALID_REQUEST, "'stop' must be a string or an array of"
            + " strings.", "stop");
      }
    }
    ProviderPreferences preferences = preferences(body.getValue("provider"), request, warnings);
    return new Validated(request, List.copyOf(warnings), ClientFormat.OPENAI_CHAT,
        fallbackModels(body.getValue("models"), request.getString("model")), preferences);
  }

  /**
   * OpenRouter's {@code provider} object, for the checked {@code request}; a gateway-only field,
   * never forwarded.
   */
  static ProviderPreferences preferences(Object raw, JsonObject request, List<String> warnings) {
    if (raw == null) {
      return ProviderPreferences.NONE;
    }
    if (!(raw instanceof JsonObject p)) {
      throw new ApiError(Failure.INVALID_REQUEST, "'provider' must be an object.", "provider");
    }
    boolean sortByPrice = false;
    ProviderPreferences.HealthSort healthSort = ProviderPreferences.HealthSort.NONE;
    Object sort = p.getValue("sort");
    if ("price".equals(sort)) {
      sortByPrice = true;
    } else if ("latency".equals(sort)) {
      healthSort = ProviderPreferences.HealthSort.LATENCY;
    } else if ("throughput".equals(sort)) {
      healthSort = ProviderPreferences.HealthSort.THROUGHPUT;
    } else if (sort != null) {
      throw new ApiError(Failure.INVALID_REQUEST, "'provider.sort' must be price, latency or"
          + " throughput.", "provider.sort");
    }
    Object fallbacks = p.getValue("allow_fallbacks");
    if (fallbacks != null && !(fallbacks instanceof Boolean)) {
      throw new ApiError(Failure.INVALID_REQUEST, "'provider.allow_fallbacks' must be a"
          + " boolean.", "provider.allow_fallbacks");
    }
    Object requireParameters = p.getValue("require_parameters");
    if (requireParameters != null && !(requireParameters instanceof Boolean)) {
      throw new ApiError(Failure.INVALID_REQUEST, "'provider.require_parameters' must be a"
          + " boolean.", "provider.require_parameters");
    }
    for (String field : p.fieldNames()) {
      if (!Set.of("order", "only", "ignore", "allow_fallbacks", "sort", "max_price",
          "require_parameters").contains(field)) {
        warnings.add("provider." + printable(field) + " is not supported and was ignored");
      }
    }
    long maxPrompt = -1;
    long maxCompletion = -1;
    if (p.getValue("max_price") instanceof JsonObject max) {
      maxPrompt = price(max, "prompt");
      maxCompletion = price(max, "completion");
    } else if (p.getValue("max_price") != null) {
      throw new ApiError(Failure.INVALID_REQUEST, "'provider.max_price' must be an object with"
          + " 'prompt' and 'completion' in USD per million tokens.", "provider.max_price");
    }
    return new ProviderPreferences(names(p, "order"), names(p, "only"), names(p, "ignore"),
        !Boolean.FALSE.equals(fallbacks), sortByPrice, maxPrompt, maxCompletion, healthSort,
        Boolean.TRUE.equals(requireParameters) ? parameters(request) : List.of());
  }

  /**
   * The parameters a request uses, by their canonical names, sorted: its fields that are request
   * parameters and are set to something other than {@code null}.
   */
  static List<String> parameters(JsonObject request) {
    Set<String> used = new TreeSet<>();
    for (Map.Entry<String, Object> field : request) {
      String name = RequestParameters.canonical(field.getKey());
      if (name != null && field.getValue() != null) {
        used.add(name);
      }
    }
    return List.copyOf(used);
  }

  private static List<String> names(JsonObject p, String field) {
    Object raw = p.getValue(field);
    if (raw == null) {
      return List.of();
    }
    if (!(raw instanceof JsonArray array) || array.size() > 64
        || !array.stream().allMatch(v -> v instanceof String s && s.length() <= 64)) {
      throw new ApiError(Failure.INVALID_REQUEST, "'provider." + field + "' must be an array of"
          + " provider ids.", "provider." + field);
    }
    List<String> out = new ArrayList<>();
    array.forEach(v -> out.add((String) v));
    return List.copyOf(out);
  }

  /** A ceiling in USD per million tokens, as micro-USD per million; -1 when absent. */
  private static long price(JsonObject max, String field) {
    Object value = max.getValue(field);
    if (value == null) {
      return -1;
    }
    if (!(value instanceof Number n) || !Double.isFinite(n.doubleValue())
        || n.doubleValue() < 0) {
      throw new ApiError(Failure.INVALID_REQUEST, "'provider.max_price." + field + "' must be a"
          + " non-negative number of USD per million tokens.", "provider.max_price." + field);
    }
    return new java.math.BigDecimal(n.toString()).movePointRight(6)
        .min(java.math.BigDecimal.valueOf(Long.MAX_VALUE)).longValue();
  }

  /**
   * OpenRouter's {@code models}: the models to try, in order, after the requested one. The
   * requested model is not tried twice; a gateway-only field, it is never forwarded.
   */
  static List<String> fallbackModels(Object raw, String model) {
    if (raw == null) {
      return List.of();
    }
    if (!(raw instanceof JsonArray models) || models.size() > MAX_FALLBACK_MODELS) {
      throw new ApiError(Failure.INVALID_REQUEST, "'models' must be an array of at most "
          + MAX_FALLBACK_MODELS + " model names.", "models");
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; i < models.size(); i++) {
      JsonObject probe = new JsonObject().put("model", models.getValue(i));
      try {
        checkModel(probe);
      } catch (ApiError e) {
        throw new ApiError(Failure.INVALID_REQUEST, "'models[" + i + "]' must be a model name"
            + " of at most " + MAX_MODEL_LENGTH + " printable characters.", "models[" + i + "]");
      }
      String name = probe.getString("model");
      if (!name.equals(model) && !out.contains(name)) {
        out.add(name);
      }
    }
    return List.copyOf(out);
  }

  static void checkModel(JsonObject request) {
    Object model = request.getValue("model");
    if (!(model instanceof String s) || s.isBlank()) {
      throw new ApiError(Failure.INVALID_REQUEST, model == null
          ? "'model' is required." : "'model' must be a non-empty string.", "model");
    }
    if (s.length() > MAX_MODEL_LENGTH || !s.codePoints().allMatch(c -> c >= 0x20 && c != 0x7F)) {
      throw new ApiError(Failure.INVALID_REQUEST, "'model' must be at most " + MAX_MODEL_LENGTH
          + " printable characters.", "model");
    }
  }

  /** Lists the first warnings and counts the rest, to keep the response header small. */
  static void capWarnings(List<String> warnings) {
    if (warnings.size() > MAX_WARNINGS) {
      int more = warnings.size() - MAX_WARNINGS;
      warnings.subList(MAX_WARNINGS, warnings.size()).clear();
      warnings.add(more + " more unsupported fields were dropped");
    }
  }

  /** Numbers too large for a double arrive as infinities; no provider field accepts one. */
  static void checkFinite(JsonObject request) {
    for (Map.Entry<String, Object> field : request) {
      if (field.getValue() instanceof Double d && !Double.isFinite(d)) {
        throw new ApiError(Failure.INVALID_REQUEST, "'" + field.getKey() + "' is out of range.",
            field.getKey());
      }
    }
  }

  private static void checkMessages(JsonObject request) {
    Object value = request.getValue("messages");
    if (value == null) {
      throw new ApiError(Failure.INVALID_REQUEST, "'messages' is required.", "messages");
    }
    if (!(value instanceof JsonArray messages)) {
      throw new ApiError(Failure.INVALID_REQUEST, "'messages' must be an array of message"
          + " objects.", "messages");
    }
    if (messages.isEmpty()) {
      throw new ApiError(Failure.INVALID_REQUEST, "'messages' must contain at least one"
          + " message.", "messages");
    }
    for (int i = 0; i < messages.size(); i++) {
      String at = "messages[" + i + "]";
      if (!(messages.getValue(i) instanceof JsonObject message)) {
        throw new ApiError(Failure.INVALID_REQUEST, "'" + at + "' must be an object.", at);
      }
      Object role = message.getValue("role");
      if (!(role instanceof String r)) {
        throw new ApiError(Failure.INVALID_REQUEST, "'" + at + ".role' is required.",
            at + ".role");
      }
      if (!ROLES.contains(r)) {
        throw new ApiError(Failure.INVALID_REQUEST, "'" + at + ".role' must be one of system,"
            + " developer, user, assistant, tool, function.", at + ".role");
      }
      Object content = message.getValue("content");
      if (content != null && !(content instanceof String) && !(content instanceof JsonArray)) {
        throw new ApiError(Failure.INVALID_REQUEST, "'" + at + ".content' must be a string or"
            + " an array of content parts.", at + ".content");
      }
      if (content == null && !r.equals("assistant")) {
        throw new ApiError(Failure.INVALID_REQUEST, "'" + at + ".content' is required for role '"
            + r + "'.", at + ".content");
      }
    }
  }

  static void optionalType(JsonObject o, String field, Class<?> type, String what) {
    optionalType(o, field, type, what, "");
  }

  private static void optionalType(
      JsonObject o, String field, Class<?> type, String what, String prefix) {
    Object value = o.getValue(field);
    if (value != null && !type.isInstance(value)) {
      throw new ApiError(Failure.INVALID_REQUEST, "'" + prefix + field + "' must be " + what + ".",
          prefix + field);
    }
  }

  static void positiveInt(JsonObject o, String field, int max) {
    Object value = o.getValue(field);
    if (value == null) {
      return;
    }
    if (!(value instanceof Integer || value instanceof Long)
        || ((Number) value).longValue() < 1 || ((Number) value).longValue() > max) {
      throw new ApiError(Failure.INVALID_REQUEST, "'" + field + "' must be an integer from 1 to "
          + max + ".", field);
    }
  }

  static void range(JsonObject o, String field, double min, double max) {
    Object value = o.getValue(field);
    if (value == null) {
      return;
    }
    if (!(value instanceof Number n) || n.doubleValue() < min || n.doubleValue() > max) {
      throw new ApiError(Failure.INVALID_REQUEST, "'" + field + "' must be a number from " + min
          + " to " + max + ".", field);
    }
  }

  /** Field names come from the client; keep the header they are echoed in safe and short. */
  static String printable(String name) {
    String cleaned = name.replaceAll("[^A-Za-z0-9_.-]", "?");
    return cleaned.length() > 64 ? cleaned.substring(0, 64) + "..." : cleaned;
  }
}
