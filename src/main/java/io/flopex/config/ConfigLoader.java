package io.flopex.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the parsed YAML document and the environment into a validated {@link FlopexConfig}.
 *
 * <p>Strings may reference environment variables as {@code ${NAME}} or {@code ${NAME:-default}}.
 * A provider whose {@code apiKey} references an unset variable is skipped with a warning, and so
 * are the endpoints that use it, so the sample configuration starts on a machine without keys.
 * The {@code FLOPEX_*} variables override the matching keys of the file.
 */
public final class ConfigLoader {

  private static final Logger LOG = LoggerFactory.getLogger(ConfigLoader.class);
  private static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?}");
  private static final BigDecimal MILLION = BigDecimal.valueOf(1_000_000);
  /** No model costs this much; a larger number is a typo, and would overflow. */
  private static final BigDecimal MAX_PRICE_USD = BigDecimal.valueOf(1_000_000);

  private final Function<String, String> env;

  public ConfigLoader(Function<String, String> env) {
    this.env = env;
  }

  public FlopexConfig load(JsonObject doc) {
    known(doc, "", Set.of("server", "database", "dataDir", "adminToken", "routing", "usage",
        "retention", "cluster", "bridge", "metrics", "billing", "stripe", "auth", "providers", "models"));
    known(object(doc, "server"), "server.", Set.of("host", "port", "maxBodyBytes",
        "bodyTimeoutMs", "maxSseEventBytes", "instances", "shutdownGraceMs",
        "drainDelayMs"));
    known(object(doc, "database"), "database.", Set.of("url", "poolSize"));
    known(object(doc, "routing"), "routing.", Set.of("maxAttempts", "defaultCooldownMs",
        "breaker"));
    known(object(object(doc, "routing"), "breaker"), "routing.breaker.",
        Set.of("failures", "windowMs", "resetMs"));
    known(object(doc, "cluster"), "cluster.",
        Set.of("enabled", "name", "host", "port", "members", "multicast", "eventBusPort"));
    known(object(doc, "bridge"), "bridge.", Set.of("enabled", "host", "port"));
    known(object(doc, "metrics"), "metrics.",
        Set.of("enabled", "requireAdminToken", "host", "port", "vertx"));
    known(object(doc, "stripe"), "stripe.",
        Set.of("secretKey", "webhookSecret", "apiBase", "successUrl", "cancelUrl"));
    known(object(doc, "auth"), "auth.", Set.of("tokenSecret", "tokenTtlSeconds", "external"));
    known(object(object(doc, "auth"), "external"), "auth.external.",
        Set.of("issuer", "audience", "publicKey", "jwks", "accountClaim"));
    known(object(doc, "billing"), "billing.",
        Set.of("enabled", "reservationTimeoutMinutes", "defaultMaxOutputTokens"));
    known(object(doc, "usage"), "usage.", Set.of("batchSize", "flushIntervalMs", "maxPending"));
    known(object(doc, "retention"), "retention.", Set.of("usageDays", "ledgerYears",
        "intervalMinutes"));
    JsonObject server = object(doc, "server");
    int port = intValue(server, "server.port", 8080, 0, 65535);
    String portVar = env.apply("FLOPEX_PORT");
    if (portVar != null && !portVar.isBlank()) {
      port = parseInt(portVar, "FLOPEX_PORT", 0, 65535);
    }
    FlopexConfig.Server serverConfig = new FlopexConfig.Server(
        stringValue(server, "server.host", "0.0.0.0"),
        port,
        longValue(server, "server.maxBodyBytes", 8L * 1024 * 1024, 1024, Integer.MAX_VALUE),
        longValue(server, "server.bodyTimeoutMs", 30_000, 100, 3_600_000),
        (int) longValue(server, "server.maxSseEventBytes", 16L * 1024 * 1024, 16L * 1024 * 1024,
            Integer.MAX_VALUE - 8),
        intValue(server, "server.instances", 0, 0, 256),
        longValue(server, "server.shutdownGraceMs", 10_000, 0, 600_000),
        longValue(server, "server.drainDelayMs", 0, 0, 600_000));

    JsonObject database = object(doc, "database");
    String url = nonBlank(env.apply("FLOPEX_DATABASE_URL"));
    if (url == null) {
      url = nonBlank(stringValue(database, "database.url", null));
    }
    FlopexConfig.Database databaseConfig =
        new FlopexConfig.Database(url, intValue(database, "database.poolSize", 8, 1, 256));

    String dataDirVar = nonBlank(env.apply("FLOPEX_DATA_DIR"));
    Path dataDir = Path.of(dataDirVar != null ? dataDirVar : stringValue(doc, "dataDir", "./data"));
    String adminToken = nonBlank(env.apply("FLOPEX_ADMIN_TOKEN"));
    String adminTokenKey = "FLOPEX_ADMIN_TOKEN";
    if (adminToken == null) {
      adminToken = nonBlank(stringValue(doc, "adminToken", null));
      adminTokenKey = "adminToken";
    }
    if (adminToken != null && adminToken.length() < 16) {
      throw new ConfigException(adminTokenKey + ": must be at least 16 characters");
    }

    JsonObject routing = object(doc, "routing");
    JsonObject breaker = object(routing, "breaker");
    FlopexConfig.Breaker defaults = FlopexConfig.Breaker.DEFAULTS;
    FlopexConfig.Routing routingConfig =
        new FlopexConfig.Routing(intValue(routing, "routing.maxAttempts", 4, 1, 16),
            longValue(routing, "routing.defaultCooldownMs", 60_000, 0, 3_600_000),
            new FlopexConfig.Breaker(
                intValue(breaker, "routing.breaker.failures", defaults.failures(), 1, 10_000),
                longValue(breaker, "routing.breaker.windowMs", defaults.windowMs(), 1_000,
                    3_600_000),
                longValue(breaker, "routing.breaker.resetMs", defaults.resetMs(), 10,
                    3_600_000)));
    JsonObject usage = object(doc, "usage");
    FlopexConfig.Usage usageConfig = new FlopexConfig.Usage(
        intValue(usage, "usage.batchSize", 200, 1, 10_000),
        longValue(usage, "usage.flushIntervalMs", 250, 10, 60_000),
        intValue(usage, "usage.maxPending", 100_000, 100, 10_000_000));
    JsonObject retention = object(doc, "retention");
    FlopexConfig.Retention retentionConfig = new FlopexConfig.Retention(
        intValue(retention, "retention.usageDays", 90, 1, 36_500),
        intValue(retention, "retention.ledgerYears", 7, 1, 100),
        longValue(retention, "retention.intervalMinutes", 60, 1, 10_080) * 60_000);

    List<ProviderConfig> providers = providers(doc);
    List<ModelConfig> models = models(doc, providers);
    return new FlopexConfig(serverConfig, databaseConfig, dataDir, adminToken, routingConfig,
        usageConfig, retentionConfig, cluster(object(doc, "cluster")),
        bridge(object(doc, "bridge")), metrics(object(doc, "metrics")),
        billing(object(doc, "billing")),
        stripe(object(doc, "stripe")), auth(object(doc, "auth")), providers, models);
  }

  private FlopexConfig.Cluster cluster(JsonObject cluster) {
    FlopexConfig.Cluster off = FlopexConfig.Cluster.OFF;
    boolean enabled = booleanValue(cluster, "cluster.enabled", false);
    String flag = nonBlank(env.apply("FLOPEX_CLUSTER"));
    if (flag != null) {
      enabled = parseBoolean(flag, "FLOPEX_CLUSTER");
    }
    List<String> members = new ArrayList<>();
    String membersVar = nonBlank(env.apply("FLOPEX_CLUSTER_MEMBERS"));
    if (membersVar != null) {
      for (String m : membersVar.split(",")) {
        if (!m.isBlank()) {
          members.add(member(m.trim(), "FLOPEX_CLUSTER_MEMBERS"));
        }
      }
    } else {
      JsonArray list = array(cluster, "members");
      for (int i = 0; i < list.size(); i++) {
        String key = "cluster.members[" + i + "]";
        if (!(list.getValue(i) instanceof String s) || s.isBlank()) {
          throw new ConfigException(key + ": must be an address such as 10.0.0.2:5701");
        }
        members.add(member(substitute(s).trim(), key));
      }
    }
    String host = nonBlank(env.apply("FLOPEX_CLUSTER_HOST"));
    if (host == null) {
      host = nonBlank(stringValue(cluster, "cluster.host", off.host()));
    }
    return new FlopexConfig.Cluster(enabled,
        stringValue(cluster, "cluster.name", off.name()), host,
        intValue(cluster, "cluster.port", off.port(), 1, 65535), List.copyOf(members),
        booleanValue(cluster, "cluster.multicast", false),
        intValue(cluster, "cluster.eventBusPort", 0, 0, 65535));
  }

  /** A member address: a host, or a host and one port; Hazelcast refuses port ranges. */
  private static String member(String value, String key) {
    int colon = value.lastIndexOf(':');
    if (colon > 0 && value.indexOf(']') < colon) {
      String port = value.substring(colon + 1);
      if (!port.matches("[0-9]{1,5}") || Integer.parseInt(port) < 1
          || Integer.parseInt(port) > 65535) {
        throw new ConfigException(key + ": '" + value + "' must be a host or host:port");
      }
    }
    if (value.contains(" ") || value.contains(",")) {
      throw new ConfigException(key + ": '" + value + "' must be a host or host:port");
    }
    return value;
  }

  private FlopexConfig.Stripe stripe(JsonObject stripe) {
    FlopexConfig.Stripe off = FlopexConfig.Stripe.OFF;
    String apiBase = stringValue(stripe, "stripe.apiBase", off.apiBase());
    baseUrl(apiBase, "stripe.apiBase");
    return new FlopexConfig.Stripe(
        nonBlank(stringValue(stripe, "stripe.secretKey", null)),
        nonBlank(stringValue(stripe, "stripe.webhookSecret", null)),
        apiBase.endsWith("/") ? apiBase.substring(0, apiBase.length() - 1) : apiBase,
        nonBlank(stringValue(stripe, "stripe.successUrl", null)),
        nonBlank(stringValue(stripe, "stripe.cancelUrl", null)));
  }

  private FlopexConfig.Auth auth(JsonObject auth) {
    String secret = nonBlank(stringValue(auth, "auth.tokenSecret", null));
    if (secret != null && secret.length() < 32) {
      throw new ConfigException("auth.tokenSecret: must be at least 32 characters");
    }
    int ttl = intValue(auth, "auth.tokenTtlSeconds", 900, 60, 86_400);
    JsonObject ext = object(auth, "external");
    FlopexConfig.External external = null;
    if (!ext.isEmpty()) {
      String issuer = requiredString(ext, "auth.external.issuer");
      String audience = requiredString(ext, "auth.external.audience");
      String publicKey = nonBlank(stringValue(ext, "auth.external.publicKey", null));
      List<JsonObject> jwks = new ArrayList<>();
      JsonArray keys = array(ext, "jwks");
      for (int i = 0; i < keys.size(); i++) {
        jwks.add(element(keys, i, "auth.external.jwks[" + i + "]"));
      }
      if (publicKey == null && jwks.isEmpty()) {
        throw new ConfigException("auth.external: needs a publicKey (PEM) or jwks to check"
            + " tokens with");
      }
      external = new FlopexConfig.External(issuer, audience, publicKey, List.copyOf(jwks),
          stringValue(ext, "auth.external.accountClaim", "sub"));
    }
    return new FlopexConfig.Auth(secret, ttl, external);
  }

  private FlopexConfig.Billing billing(JsonObject billing) {
    FlopexConfig.Billing off = FlopexConfig.Billing.OFF;
    return new FlopexConfig.Billing(booleanValue(billing, "billing.enabled", false),
        longValue(billing, "billing.reservationTimeoutMinutes",
            off.reservationTimeoutMs() / 60_000, 1, 10_080) * 60_000,
        longValue(billing, "billing.defaultMaxOutputTokens", off.defaultMaxOutputTokens(), 1,
            10_000_000));
  }

  private FlopexConfig.Bridge bridge(JsonObject bridge) {
    FlopexConfig.Bridge off = FlopexConfig.Bridge.OFF;
    return new FlopexConfig.Bridge(booleanValue(bridge, "bridge.enabled", false),
        stringValue(bridge, "bridge.host", off.host()),
        intValue(bridge, "bridge.port", off.port(), 1, 65535));
  }

  private FlopexConfig.Metrics metrics(JsonObject metrics) {
    FlopexConfig.Metrics defaults = FlopexConfig.Metrics.DEFAULTS;
    boolean enabled = booleanValue(metrics, "metrics.enabled", defaults.enabled());
    String flag = nonBlank(env.apply("FLOPEX_METRICS_ENABLED"));
    if (flag != null) {
      enabled = parseBoolean(flag, "FLOPEX_METRICS_ENABLED");
    }
    return new FlopexConfig.Metrics(enabled,
        booleanValue(metrics, "metrics.requireAdminToken", defaults.requireAdminToken()),
        stringValue(metrics, "metrics.host", defaults.host()),
        intValue(metrics, "metrics.port", FlopexConfig.Metrics.MAIN_PORT, 0, 65535),
        vertxMeters(metrics));
  }

  /**
   * {@code metrics.vertx}, or {@code FLOPEX_METRICS_VERTX} (names separated by commas, or
   * {@code none}): the groups of Vert.x's own meters to record.
   */
  private Set<FlopexConfig.VertxMeters> vertxMeters(JsonObject metrics) {
    List<String> names = new ArrayList<>();
    List<String> keys = new ArrayList<>();
    String variable = nonBlank(env.apply("FLOPEX_METRICS_VERTX"));
    if (variable != null) {
      if (!variable.trim().equalsIgnoreCase("none")) {
        for (String name : variable.split(",")) {
          if (!name.isBlank()) {
            names.add(name.trim());
            keys.add("FLOPEX_METRICS_VERTX");
          }
        }
        if (names.isEmpty()) {
          throw new ConfigException("FLOPEX_METRICS_VERTX: names no group; write none for none,"
              + " or some of " + vertxMeterNames());
        }
      }
    } else if (metrics.getValue("vertx") == null) {
      return FlopexConfig.Metrics.DEFAULT_VERTX;
    } else {
      if (!(metrics.getValue("vertx") instanceof JsonArray list)) {
        throw new ConfigException("metrics.vertx: must be a list of " + vertxMeterNames());
      }
      for (int i = 0; i < list.size(); i++) {
        String key = "metrics.vertx[" + i + "]";
        if (!(list.getValue(i) instanceof String s)) {
          throw new ConfigException(key + ": must be one of " + vertxMeterNames());
        }
        String name = substitute(s);
        if (name == null || name.isBlank()) {
          throw new ConfigException(key + ": empty; one of " + vertxMeterNames());
        }
        names.add(name.trim());
        keys.add(key);
      }
    }
    Set<FlopexConfig.VertxMeters> meters = EnumSet.noneOf(FlopexConfig.VertxMeters.class);
    for (int i = 0; i < names.size(); i++) {
      String name = names.get(i);
      FlopexConfig.VertxMeters found = null;
      for (FlopexConfig.VertxMeters m : FlopexConfig.VertxMeters.values()) {
        if (m.configName().equalsIgnoreCase(name)) {
          found = m;
        }
      }
      if (found == null) {
        throw new ConfigException(keys.get(i) + ": unknown group of Vert.x meters '" + name
            + "'; one of " + vertxMeterNames());
      }
      meters.add(found);
    }
    return meters;
  }

  private static String vertxMeterNames() {
    return java.util.Arrays.stream(FlopexConfig.VertxMeters.values())
        .map(FlopexConfig.VertxMeters::configName)
        .collect(java.util.stream.Collectors.joining(", "));
  }

  private boolean booleanValue(JsonObject o, String key, boolean fallback) {
    String field = key.substring(key.lastIndexOf('.') + 1);
    Object v = o.getValue(field);
    if (v == null) {
      return fallback;
    }
    if (v instanceof Boolean b) {
      return b;
    }
    if (v instanceof String s && substitute(s) != null) {
      return parseBoolean(substitute(s), key);
    }
    throw new ConfigException(key + ": must be true or false");
  }

  private static boolean parseBoolean(String value, String key) {
    return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
      case "true", "yes", "on", "1" -> true;
      case "false", "no", "off", "0" -> false;
      default -> throw new ConfigException(key + ": '" + value + "' must be true or false");
    };
  }

  private List<ProviderConfig> providers(JsonObject doc) {
    JsonArray array = array(doc, "providers");
    List<ProviderConfig> providers = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < array.size(); i++) {
      String key = "providers[" + i + "]";
      JsonObject p = element(array, i, key);
      known(p, key + ".", Set.of("id", "kind", "baseUrl", "apiKey", "timeouts",
          "maxConnections", "headers", "nativeResponses"));
      known(object(p, "timeouts"), key + ".timeouts.", Set.of("connectMs", "firstByteMs",
          "idleMs", "responseMs"));
      String id = requiredString(p, key + ".id");
      if (!id.matches("[a-z0-9][a-z0-9._-]{0,63}")) {
        throw new ConfigException(key + ".id: '" + id
            + "' must be lowercase letters, digits, '.', '_' or '-' (at most 64)");
      }
      if (!ids.add(id)) {
        throw new ConfigException(key + ".id: duplicate provider id '" + id + "'");
      }
      ProviderKind kind = ProviderKind.fromConfig(requiredString(p, key + ".kind"), key + ".kind");
      URI baseUrl = baseUrl(requiredString(p, key + ".baseUrl"), key + ".baseUrl");
      Object rawKey = p.getValue("apiKey");
      if (rawKey != null && !(rawKey instanceof String)) {
        throw new ConfigException(key + ".apiKey: must be a string");
      }
      String apiKey = rawKey == null ? null : nonBlank(substitute((String) rawKey));
      if (apiKey == null) {
        LOG.warn("Provider {} skipped: its apiKey {} is not set", id,
            rawKey == null ? "is missing" : "(" + rawKey + ")");
        continue;
      }
      JsonObject t = object(p, "timeouts");
      String tk = key + ".timeouts.";
      Timeouts timeouts = new Timeouts(
          longValue(t, tk + "connectMs", Timeouts.DEFAULT.connectMs(), 1, 600_000),
          longValue(t, tk + "firstByteMs", Timeouts.DEFAULT.firstByteMs(), 1, 3_600_000),
          longValue(t, tk + "idleMs", Timeouts.DEFAULT.idleMs(), 1, 3_600_000),
          longValue(t, tk + "responseMs", Timeouts.DEFAULT.responseMs(), 1, 3_600_000));
      Map<String, String> headers = new LinkedHashMap<>();
      JsonObject h = object(p, "headers");
      for (String name : h.fieldNames()) {
        String value = substitute(String.valueOf(h.getValue(name)));
        if (value == null) {
          throw new ConfigException(key + ".headers." + name
              + ": references an unset environment variable");
        }
        headers.put(name, value);
      }
      // OpenAI serves the Responses API; a host that copies Chat Completions may not.
      boolean nativeResponses = booleanValue(p, key + ".nativeResponses",
          kind == ProviderKind.OPENAI);
      if (nativeResponses && !(kind == ProviderKind.OPENAI
          || kind == ProviderKind.OPENAI_COMPATIBLE)) {
        throw new ConfigException(key + ".nativeResponses: only providers of kind openai or"
            + " openai-compatible can serve the Responses API natively");
      }
      providers.add(new ProviderConfig(id, kind, baseUrl, apiKey, timeouts,
          intValue(p, key + ".maxConnections", 256, 1, 10_000), Map.copyOf(headers),
          nativeResponses));
    }
    return List.copyOf(providers);
  }

  private List<ModelConfig> models(JsonObject doc, List<ProviderConfig> providers) {
    Set<String> providerIds = new HashSet<>();
    providers.forEach(p -> providerIds.add(p.id()));
    Set<String> declaredProviders = new HashSet<>();
    JsonArray declared = array(doc, "providers");
    for (int i = 0; i < declared.size(); i++) {
      Object p = declared.getValue(i);
      if (p instanceof JsonObject o && o.getValue("id") instanceof String s) {
        declaredProviders.add(s);
      }
    }
    JsonArray array = array(doc, "models");
    List<ModelConfig> models = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < array.size(); i++) {
      String key = "models[" + i + "]";
      JsonObject m = element(array, i, key);
      known(m, key + ".", Set.of("id", "contextLength", "endpoints", "strategy",
          "contentPolicyFallback"));
      ModelConfig.Strategy strategy;
      try {
        strategy = ModelConfig.Strategy.valueOf(
            stringValue(m, key + ".strategy", "ordered").toUpperCase(java.util.Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new ConfigException(key + ".strategy: must be ordered, price, latency,"
            + " throughput or weighted");
      }
      String id = requiredString(m, key + ".id");
      if (!ids.add(id)) {
        throw new ConfigException(key + ".id: duplicate model id '" + id + "'");
      }
      long contextLength = longValue(m, key + ".contextLength", 0, 0, Long.MAX_VALUE);
      JsonArray eps = array(m, "endpoints");
      if (eps.isEmpty()) {
        throw new ConfigException(key + ".endpoints: a model needs at least one endpoint");
      }
      List<EndpointConfig> endpoints = new ArrayList<>();
      boolean hasWeights = false;
      for (int j = 0; j < eps.size(); j++) {
        String ek = key + ".endpoints[" + j + "]";
        JsonObject e = element(eps, j, ek);
        known(e, ek + ".", Set.of("provider", "upstreamModel", "pricing", "parameters",
            "weight"));
        String provider = requiredString(e, ek + ".provider");
        if (!declaredProviders.contains(provider)) {
          throw new ConfigException(ek + ".provider: no provider with id '" + provider + "'");
        }
        String upstreamModel = requiredString(e, ek + ".upstreamModel");
        Pricing pricing = pricing(e, ek + ".pricing");
        Set<String> parameters = parameters(e, ek + ".parameters");
        double weight = weight(e, ek + ".weight");
        if (providerIds.contains(provider)) {
          endpoints.add(new EndpointConfig(provider, upstreamModel, pricing, parameters, weight));
        }
        hasWeights |= e.containsKey("weight");
      }
      if (hasWeights && strategy != ModelConfig.Strategy.WEIGHTED) {
        LOG.warn("Model {}: endpoint weights are read only by the weighted strategy, not by {}",
            id, strategy.name().toLowerCase(java.util.Locale.ROOT));
      }
      if (endpoints.isEmpty()) {
        LOG.warn("Model {} skipped: none of its providers is configured with a key", id);
        continue;
      }
      String contentPolicyFallback = nonBlank(stringValue(m, key + ".contentPolicyFallback",
          null));
      if (id.equals(contentPolicyFallback)) {
        throw new ConfigException(key + ".contentPolicyFallback: cannot be the model itself");
      }
      models.add(new ModelConfig(id, contextLength, List.copyOf(endpoints), strategy,
          contentPolicyFallback));
    }
    Set<String> kept = new HashSet<>();
    models.forEach(model -> kept.add(model.id()));
    for (ModelConfig model : models) {
      if (model.contentPolicyFallback() != null && !ids.contains(model.contentPolicyFallback())) {
        throw new ConfigException("model " + model.id() + ".contentPolicyFallback: no model with"
            + " id '" + model.contentPolicyFallback() + "'");
      }
      if (model.contentPolicyFallback() != null && !kept.contains(model.contentPolicyFallback())) {
        LOG.warn("Model {}: its content-policy fallback {} was skipped; refusals go back to the"
            + " client", model.id(), model.contentPolicyFallback());
      }
    }
    return List.copyOf(models);
  }

  private Pricing pricing(JsonObject endpoint, String key) {
    Object raw = endpoint.getValue("pricing");
    if (!(raw instanceof JsonObject p)) {
      throw new ConfigException(key + ": every endpoint needs a price (USD per million tokens);"
          + " write { prompt: 0, completion: 0 } for a free one");
    }
    known(p, key + ".", Set.of("prompt", "completion", "cacheRead", "cacheWrite", "reasoning"));
    long prompt = microsPerMillion(p, key + ".prompt", true);
    long completion = microsPerMillion(p, key + ".completion", true);
    long cacheRead = p.containsKey("cacheRead")
        ? microsPerMillion(p, key + ".cacheRead", true) : prompt;
    long cacheWrite = p.containsKey("cacheWrite")
        ? microsPerMillion(p, key + ".cacheWrite", true) : prompt;
    long reasoning = p.containsKey("reasoning")
        ? microsPerMillion(p, key + ".reasoning", true) : completion;
    return new Pricing(prompt, completion, cacheRead, cacheWrite, reasoning);
  }

  /** The request parameters an endpoint declares, by their canonical names. */
  private static Set<String> parameters(JsonObject endpoint, String key) {
    Object raw = endpoint.getValue("parameters");
    if (raw == null) {
      return Set.of();
    }
    if (!(raw instanceof JsonArray list)) {
      throw new ConfigException(key + ": must be a list of request parameter names");
    }
    Set<String> names = new HashSet<>();
    for (int i = 0; i < list.size(); i++) {
      Object name = list.getValue(i);
      String canonical = name instanceof String s ? RequestParameters.canonical(s) : null;
      if (canonical == null) {
        throw new ConfigException(key + "[" + i + "]: " + (name instanceof String
            ? "unknown parameter '" + name + "'" : "must be a parameter name")
            + "; expected one of " + String.join(", ", RequestParameters.accepted()));
      }
      names.add(canonical);
    }
    return Set.copyOf(names);
  }

  /** No endpoint needs a million times another's traffic; a larger number is a typo. */
  private double weight(JsonObject endpoint, String key) {
    Object raw = endpoint.getValue("weight");
    if (raw == null) {
      return 1;
    }
    double weight;
    if (raw instanceof Number n) {
      weight = n.doubleValue();
    } else if (raw instanceof String s && substitute(s) != null) {
      try {
        weight = Double.parseDouble(substitute(s).trim());
      } catch (NumberFormatException e) {
        throw new ConfigException(key + ": '" + s + "' is not a number");
      }
    } else {
      throw new ConfigException(key + ": must be a number");
    }
    if (!(weight >= 0 && weight <= 1_000_000)) {
      throw new ConfigException(key + ": " + raw + " is outside 0..1000000");
    }
    return weight;
  }

  private static long microsPerMillion(JsonObject p, String key, boolean required) {
    String field = key.substring(key.lastIndexOf('.') + 1);
    Object raw = p.getValue(field);
    if (raw == null) {
      throw new ConfigException(key + ": missing (USD per million tokens)");
    }
    BigDecimal usd;
    try {
      usd = raw instanceof Double d ? new BigDecimal(Double.toString(d)) : new BigDecimal(raw.toString());
    } catch (NumberFormatException e) {
      throw new ConfigException(key + ": '" + raw + "' is not a number");
    }
    if (usd.signum() < 0) {
      throw new ConfigException(key + ": must not be negative");
    }
    if (usd.compareTo(MAX_PRICE_USD) > 0) {
      throw new ConfigException(key + ": above " + MAX_PRICE_USD + " USD per million tokens");
    }
    BigDecimal micros = usd.multiply(MILLION);
    try {
      return micros.longValueExact();
    } catch (ArithmeticException e) {
      throw new ConfigException(key + ": at most 6 decimal places (micro-USD per million tokens)");
    }
  }

  /** Replaces {@code ${NAME}} references; returns {@code null} when one names an unset variable. */
  String substitute(String value) {
    Matcher m = VARIABLE.matcher(value);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String v = env.apply(m.group(1));
      if (v == null || v.isEmpty()) {
        v = m.group(3);
      }
      if (v == null) {
        return null;
      }
      m.appendReplacement(out, Matcher.quoteReplacement(v));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static URI baseUrl(String value, String key) {
    try {
      URI uri = new URI(value.endsWith("/") ? value.substring(0, value.length() - 1) : value);
      if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
        throw new ConfigException(key + ": must be an http or https URL");
      }
      if (uri.getHost() == null) {
        throw new ConfigException(key + ": has no host");
      }
      if (uri.getUserInfo() != null || uri.getQuery() != null || uri.getFragment() != null) {
        throw new ConfigException(key + ": must not carry credentials, a query or a fragment");
      }
      return uri;
    } catch (URISyntaxException e) {
      throw new ConfigException(key + ": not a valid URL");
    }
  }

  /** A misspelt key would silently keep its default: refuse it instead, naming it. */
  private static void known(JsonObject object, String prefix, Set<String> keys) {
    for (String field : object.fieldNames()) {
      if (!keys.contains(field)) {
        throw new ConfigException(prefix + field + ": unknown key; expected one of "
            + String.join(", ", new java.util.TreeSet<>(keys)));
      }
    }
  }

  private static JsonObject object(JsonObject parent, String field) {
    Object v = parent.getValue(field);
    if (v == null) {
      return new JsonObject();
    }
    if (!(v instanceof JsonObject o)) {
      throw new ConfigException(field + ": must be a mapping");
    }
    return o;
  }

  private static JsonArray array(JsonObject parent, String field) {
    Object v = parent.getValue(field);
    if (v == null) {
      return new JsonArray();
    }
    if (!(v instanceof JsonArray a)) {
      throw new ConfigException(field + ": must be a list");
    }
    return a;
  }

  private static JsonObject element(JsonArray array, int i, String key) {
    if (!(array.getValue(i) instanceof JsonObject o)) {
      throw new ConfigException(key + ": must be a mapping");
    }
    return o;
  }

  private String requiredString(JsonObject o, String key) {
    String field = key.substring(key.lastIndexOf('.') + 1);
    Object v = o.getValue(field);
    if (!(v instanceof String s) || s.isBlank()) {
      throw new ConfigException(key + ": required text is missing");
    }
    String substituted = substitute(s);
    if (substituted == null || substituted.isBlank()) {
      throw new ConfigException(key + ": references an unset environment variable");
    }
    return substituted;
  }

  private String stringValue(JsonObject o, String key, String fallback) {
    String field = key.substring(key.lastIndexOf('.') + 1);
    Object v = o.getValue(field);
    if (v == null) {
      return fallback;
    }
    String s = substitute(String.valueOf(v));
    return s == null ? fallback : s;
  }

  private int intValue(JsonObject o, String key, int fallback, int min, int max) {
    return (int) longValue(o, key, fallback, min, max);
  }

  private long longValue(JsonObject o, String key, long fallback, long min, long max) {
    String field = key.substring(key.lastIndexOf('.') + 1);
    Object v = o.getValue(field);
    if (v == null) {
      return fallback;
    }
    long value;
    if (v instanceof Integer || v instanceof Long) {
      value = ((Number) v).longValue();
    } else if (v instanceof String s && substitute(s) != null) {
      try {
        value = Long.parseLong(substitute(s).trim());
      } catch (NumberFormatException e) {
        throw new ConfigException(key + ": '" + s + "' is not a whole number");
      }
    } else {
      throw new ConfigException(key + ": must be a whole number");
    }
    if (value < min || value > max) {
      throw new ConfigException(key + ": " + value + " is outside " + min + ".." + max);
    }
    return value;
  }

  private static int parseInt(String value, String key, int min, int max) {
    try {
      int v = Integer.parseInt(value.trim());
      if (v < min || v > max) {
        throw new ConfigException(key + ": " + v + " is outside " + min + ".." + max);
      }
      return v;
    } catch (NumberFormatException e) {
      throw new ConfigException(key + ": '" + value + "' is not a port number");
    }
  }

  private static String nonBlank(String s) {
    return s == null || s.isBlank() ? null : s;
  }
}
