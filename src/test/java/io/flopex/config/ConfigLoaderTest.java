package io.flopex.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flopex.testing.LogCapture;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.Reader;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.yaml.snakeyaml.Yaml;

class ConfigLoaderTest {

  private static final String KEY = "sk-canary-0123456789abcdef";

  private final Map<String, String> env = new HashMap<>();

  private FlopexConfig load(JsonObject doc) {
    return new ConfigLoader(env::get).load(doc);
  }

  private static JsonObject provider(String id, String apiKey) {
    return new JsonObject()
        .put("id", id)
        .put("kind", "openai-compatible")
        .put("baseUrl", "https://" + id + ".example.com/v1")
        .put("apiKey", apiKey);
  }

  private static JsonObject endpoint(String provider, Object prompt, Object completion) {
    return new JsonObject()
        .put("provider", provider)
        .put("upstreamModel", provider + "-model")
        .put("pricing", new JsonObject().put("prompt", prompt).put("completion", completion));
  }

  private static JsonObject model(String id, JsonObject... endpoints) {
    return new JsonObject().put("id", id).put("endpoints", new JsonArray(List.of(endpoints)));
  }

  private static JsonObject doc(List<JsonObject> providers, List<JsonObject> models) {
    return new JsonObject()
        .put("providers", new JsonArray(List.copyOf(providers)))
        .put("models", new JsonArray(List.copyOf(models)));
  }

  private static JsonObject withPricing(JsonObject pricing) {
    return doc(List.of(provider("groq", KEY)), List.of(model("m", new JsonObject()
        .put("provider", "groq")
        .put("upstreamModel", "llama")
        .put("pricing", pricing))));
  }

  private void assertConfigError(JsonObject doc, String key) {
    assertThatThrownBy(() -> load(doc))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(key + ":");
  }

  @Nested
  class Defaults {

    @Test
    void emptyDocumentGivesDefaults() {
      FlopexConfig config = load(new JsonObject());

      assertThat(config.server()).isEqualTo(new FlopexConfig.Server(
          "0.0.0.0", 8080, 8L * 1024 * 1024, 30_000, 16 * 1024 * 1024, 0, 10_000, 0));
      assertThat(config.database().url()).isNull();
      assertThat(config.database().poolSize()).isEqualTo(8);
      assertThat(config.dataDir()).isEqualTo(Path.of("./data"));
      assertThat(config.adminToken()).isNull();
      assertThat(config.routing().maxAttempts()).isEqualTo(4);
      assertThat(config.usage()).isEqualTo(new FlopexConfig.Usage(200, 250, 100_000));
      assertThat(config.retention()).isEqualTo(new FlopexConfig.Retention(90, 7, 3_600_000));
      assertThat(config.providers()).isEmpty();
      assertThat(config.models()).isEmpty();
    }

    @Test
    void fileValuesReplaceDefaults() {
      JsonObject doc = new JsonObject()
          .put("server", new JsonObject().put("host", "127.0.0.1").put("port", 9000))
          .put("database", new JsonObject().put("url", "postgresql://db/flopex")
              .put("poolSize", 3))
          .put("dataDir", "/var/lib/flopex")
          .put("adminToken", "a".repeat(16))
          .put("routing", new JsonObject().put("maxAttempts", 2))
          .put("retention", new JsonObject().put("usageDays", 7).put("ledgerYears", 10)
              .put("intervalMinutes", 5));

      FlopexConfig config = load(doc);

      assertThat(config.server().host()).isEqualTo("127.0.0.1");
      assertThat(config.server().port()).isEqualTo(9000);
      assertThat(config.database().url()).isEqualTo("postgresql://db/flopex");
      assertThat(config.database().poolSize()).isEqualTo(3);
      assertThat(config.dataDir()).isEqualTo(Path.of("/var/lib/flopex"));
      assertThat(config.adminToken()).isEqualTo("a".repeat(16));
      assertThat(config.routing().maxAttempts()).isEqualTo(2);
      assertThat(config.retention()).isEqualTo(new FlopexConfig.Retention(7, 10, 300_000));
    }

    @Test
    void portOutsideItsRangeNamesTheKey() {
      assertConfigError(new JsonObject().put("server", new JsonObject().put("port", 70_000)),
          "server.port");
    }

    @Test
    void nonNumericPortNamesTheKey() {
      assertConfigError(new JsonObject().put("server", new JsonObject().put("port", "http")),
          "server.port");
    }

    @Test
    void sectionThatIsNotAMappingNamesTheKey() {
      assertConfigError(new JsonObject().put("server", "8080"), "server");
    }
  }

  @Nested
  class EnvironmentOverrides {

    @Test
    void flopexPortOverridesTheFile() {
      env.put("FLOPEX_PORT", "9191");

      FlopexConfig config = load(new JsonObject().put("server", new JsonObject().put("port", 80)));

      assertThat(config.server().port()).isEqualTo(9191);
    }

    @Test
    void blankFlopexPortIsIgnored() {
      env.put("FLOPEX_PORT", " ");

      assertThat(load(new JsonObject()).server().port()).isEqualTo(8080);
    }

    @ParameterizedTest
    @ValueSource(strings = {"http", "70000", "-1", "80.5"})
    void invalidFlopexPortNamesTheVariable(String value) {
      env.put("FLOPEX_PORT", value);

      assertThatThrownBy(() -> load(new JsonObject()))
          .isInstanceOf(ConfigException.class)
          .hasMessageStartingWith("FLOPEX_PORT:");
    }

    @Test
    void flopexDatabaseUrlOverridesTheFile() {
      env.put("FLOPEX_DATABASE_URL", "postgresql://env-host/flopex");
      JsonObject doc = new JsonObject()
          .put("database", new JsonObject().put("url", "postgresql://file-host/flopex"));

      assertThat(load(doc).database().url()).isEqualTo("postgresql://env-host/flopex");
    }

    @Test
    void databaseUrlFromTheFileIsUsedWithoutTheVariable() {
      JsonObject doc = new JsonObject()
          .put("database", new JsonObject().put("url", "postgresql://file-host/flopex"));

      assertThat(load(doc).database().url()).isEqualTo("postgresql://file-host/flopex");
    }

    @Test
    void databaseToStringHidesTheUrl() {
      env.put("FLOPEX_DATABASE_URL", "postgresql://flopex:hunter2@db/flopex");

      FlopexConfig config = load(new JsonObject());

      assertThat(config.database().toString()).isEqualTo("external").doesNotContain("hunter2");
      assertThat(config.toString()).doesNotContain("hunter2");
    }

    @Test
    void flopexDataDirOverridesTheFile() {
      env.put("FLOPEX_DATA_DIR", "/srv/flopex");

      FlopexConfig config = load(new JsonObject().put("dataDir", "/tmp/from-file"));

      assertThat(config.dataDir()).isEqualTo(Path.of("/srv/flopex"));
    }

    @Test
    void flopexAdminTokenOverridesTheFile() {
      env.put("FLOPEX_ADMIN_TOKEN", "env-token-0123456789");

      FlopexConfig config = load(new JsonObject().put("adminToken", "file-token-0123456789"));

      assertThat(config.adminToken()).isEqualTo("env-token-0123456789");
    }

    @Test
    void shortFlopexAdminTokenNamesTheVariable() {
      env.put("FLOPEX_ADMIN_TOKEN", "short");

      assertThatThrownBy(() -> load(new JsonObject()))
          .isInstanceOf(ConfigException.class)
          .hasMessageStartingWith("FLOPEX_ADMIN_TOKEN:");
    }

    @Test
    void shortAdminTokenFromTheFileNamesTheFileKey() {
      assertConfigError(new JsonObject().put("adminToken", "short"), "adminToken");
    }
  }

  @Nested
  class Substitution {

    @Test
    void variableIsReplacedByItsValue() {
      env.put("HOST", "10.0.0.7");

      FlopexConfig config = load(new JsonObject()
          .put("server", new JsonObject().put("host", "${HOST}")));

      assertThat(config.server().host()).isEqualTo("10.0.0.7");
    }

    @Test
    void defaultIsUsedWhenTheVariableIsUnset() {
      FlopexConfig config = load(new JsonObject()
          .put("server", new JsonObject().put("host", "${HOST:-127.0.0.1}")));

      assertThat(config.server().host()).isEqualTo("127.0.0.1");
    }

    @Test
    void defaultIsUsedWhenTheVariableIsEmpty() {
      env.put("HOST", "");

      FlopexConfig config = load(new JsonObject()
          .put("server", new JsonObject().put("host", "${HOST:-127.0.0.1}")));

      assertThat(config.server().host()).isEqualTo("127.0.0.1");
    }

    @Test
    void valueWinsOverTheDefault() {
      env.put("HOST", "10.0.0.7");

      FlopexConfig config = load(new JsonObject()
          .put("server", new JsonObject().put("host", "${HOST:-127.0.0.1}")));

      assertThat(config.server().host()).isEqualTo("10.0.0.7");
    }

    @Test
    void numbersMayComeFromVariables() {
      env.put("PORT", "7070");

      FlopexConfig config = load(new JsonObject().put("server", new JsonObject()
          .put("port", "${PORT}").put("bodyTimeoutMs", "${BODY_TIMEOUT:-1500}")));

      assertThat(config.server().port()).isEqualTo(7070);
      assertThat(config.server().bodyTimeoutMs()).isEqualTo(1500);
    }

    @Test
    void referencesInsideTextAreReplaced() {
      env.put("REGION", "eu");
      JsonObject p = provider("azure", KEY)
          .put("baseUrl", "https://${REGION}.${DOMAIN:-example.com}/v1");

      FlopexConfig config = load(doc(List.of(p), List.of()));

      assertThat(config.providers().get(0).baseUrl())
          .isEqualTo(URI.create("https://eu.example.com/v1"));
    }

    @Test
    void defaultMayContainColonsAndSlashes() {
      FlopexConfig config = load(new JsonObject().put("database", new JsonObject()
          .put("url", "${DB:-postgresql://localhost:5432/flopex}")));

      assertThat(config.database().url()).isEqualTo("postgresql://localhost:5432/flopex");
    }

    @Test
    void valuesAreInsertedLiterally() {
      env.put("SECRET", "a$1\\b${X}");
      ConfigLoader loader = new ConfigLoader(env::get);

      assertThat(loader.substitute("key=${SECRET}")).isEqualTo("key=a$1\\b${X}");
    }

    @Test
    void textWithoutReferencesIsUnchanged() {
      assertThat(new ConfigLoader(env::get).substitute("plain $HOME {x}"))
          .isEqualTo("plain $HOME {x}");
    }

    @Test
    void unsetVariableWithoutDefaultGivesNull() {
      assertThat(new ConfigLoader(env::get).substitute("x-${NOPE}")).isNull();
    }

    @Test
    void requiredTextReferencingAnUnsetVariableNamesTheKey() {
      JsonObject p = provider("groq", KEY).put("baseUrl", "${GROQ_URL}");

      assertConfigError(doc(List.of(p), List.of()), "providers[0].baseUrl");
    }
  }

  @Nested
  class Providers {

    @Test
    void providerIsBuiltFromItsEntry() {
      env.put("GROQ_API_KEY", KEY);
      JsonObject p = provider("groq", "${GROQ_API_KEY}")
          .put("kind", "openai")
          .put("baseUrl", "https://api.groq.com/openai/v1/")
          .put("timeouts", new JsonObject().put("connectMs", 1000).put("idleMs", 5000))
          .put("maxConnections", 32)
          .put("headers", new JsonObject().put("X-Title", "${TITLE:-flopex}"));

      ProviderConfig config = load(doc(List.of(p), List.of())).providers().get(0);

      assertThat(config.id()).isEqualTo("groq");
      assertThat(config.kind()).isEqualTo(ProviderKind.OPENAI);
      assertThat(config.baseUrl()).isEqualTo(URI.create("https://api.groq.com/openai/v1"));
      assertThat(config.apiKey()).isEqualTo(KEY);
      assertThat(config.timeouts()).isEqualTo(new Timeouts(1000,
          Timeouts.DEFAULT.firstByteMs(), 5000, Timeouts.DEFAULT.responseMs()));
      assertThat(config.maxConnections()).isEqualTo(32);
      assertThat(config.headers()).containsExactly(Map.entry("X-Title", "flopex"));
    }

    @Test
    void onlyOpenAiServesTheResponsesApiNativelyUnlessConfigured() {
      JsonObject openai = provider("oa", KEY).put("kind", "openai");
      JsonObject host = provider("host", KEY);
      JsonObject hostWithIt = provider("vllm", KEY).put("nativeResponses", true);
      JsonObject openaiWithout = provider("oa2", KEY).put("kind", "openai")
          .put("nativeResponses", false);

      List<ProviderConfig> providers = load(doc(List.of(openai, host, hostWithIt,
          openaiWithout), List.of())).providers();

      assertThat(providers).extracting(ProviderConfig::nativeResponses)
          .containsExactly(true, false, true, false);
      JsonObject claude = provider("claude", KEY).put("kind", "anthropic")
          .put("nativeResponses", true);
      assertThatThrownBy(() -> load(doc(List.of(claude), List.of())))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("providers[0].nativeResponses");
    }

    @Test
    void providerWithUnsetKeyIsSkippedWithItsEndpoints() {
      env.put("GROQ_API_KEY", KEY);
      JsonObject doc = doc(
          List.of(provider("groq", "${GROQ_API_KEY}"), provider("together", "${TOGETHER_KEY}")),
          List.of(
              model("llama", endpoint("together", 0.88, 0.88), endpoint("groq", 0.59, 0.79)),
              model("only-together", endpoint("together", 1, 1))));

      FlopexConfig config = load(doc);

      assertThat(config.providers()).extracting(ProviderConfig::id).containsExactly("groq");
      assertThat(config.models()).extracting(ModelConfig::id).containsExactly("llama");
      assertThat(config.models().get(0).endpoints())
          .extracting(EndpointConfig::provider)
          .containsExactly("groq");
    }

    @Test
    void providerWithEmptyKeyVariableIsSkipped() {
      env.put("GROQ_API_KEY", "");

      FlopexConfig config = load(doc(List.of(provider("groq", "${GROQ_API_KEY}")),
          List.of(model("llama", endpoint("groq", 0.59, 0.79)))));

      assertThat(config.providers()).isEmpty();
      assertThat(config.models()).isEmpty();
    }

    @Test
    void literalKeyIsKept() {
      FlopexConfig config = load(doc(List.of(provider("groq", KEY)), List.of()));

      assertThat(config.providers()).singleElement()
          .extracting(ProviderConfig::apiKey).isEqualTo(KEY);
    }

    @Test
    void endpointOrderIsKept() {
      FlopexConfig config = load(doc(List.of(provider("a", KEY), provider("b", KEY)),
          List.of(model("m", endpoint("b", 1, 1), endpoint("a", 1, 1)))));

      assertThat(config.models().get(0).endpoints())
          .extracting(EndpointConfig::provider)
          .containsExactly("b", "a");
    }

    @Test
    void toStringNeverContainsTheKey() {
      env.put("OPENAI_API_KEY", KEY);
      FlopexConfig config = load(doc(List.of(provider("openai", "${OPENAI_API_KEY}")),
          List.of(model("gpt", endpoint("openai", 0.1, 0.4)))));

      ProviderConfig provider = config.providers().get(0);
      assertThat(provider.apiKey()).isEqualTo(KEY);
      assertThat(provider.toString()).doesNotContain(KEY).doesNotContain("canary")
          .contains("openai");
      assertThat(config.toString()).doesNotContain(KEY).doesNotContain("canary");
    }

    @Test
    void unknownKindNamesTheKey() {
      assertConfigError(doc(List.of(provider("groq", KEY).put("kind", "opneai")), List.of()),
          "providers[0].kind");
    }

    @Test
    void missingKindNamesTheKey() {
      JsonObject p = provider("groq", KEY);
      p.remove("kind");

      assertConfigError(doc(List.of(p), List.of()), "providers[0].kind");
    }

    @Test
    void duplicateProviderIdNamesTheKey() {
      assertConfigError(doc(List.of(provider("groq", KEY), provider("groq", KEY)), List.of()),
          "providers[1].id");
    }

    @Test
    void invalidProviderIdNamesTheKey() {
      assertConfigError(doc(List.of(provider("groq", KEY).put("id", "Groq Cloud")), List.of()),
          "providers[0].id");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "ftp://api.example.com/v1",
        "file:///etc/passwd",
        "https://user:secret@api.example.com/v1",
        "https://api.example.com/v1?key=secret",
        "https://api.example.com/v1#frag",
        "https:///v1",
        "api.example.com/v1",
        "https://api example.com/v1"})
    void badBaseUrlNamesTheKeyWithoutEchoingSecrets(String url) {
      JsonObject doc = doc(List.of(provider("groq", KEY).put("baseUrl", url)), List.of());

      assertThatThrownBy(() -> load(doc))
          .isInstanceOf(ConfigException.class)
          .hasMessageStartingWith("providers[0].baseUrl:")
          .message().doesNotContain("secret");
    }

    @Test
    void headerReferencingAnUnsetVariableIsAConfigError() {
      JsonObject p = provider("groq", KEY)
          .put("headers", new JsonObject().put("X-Org", "${UNSET_ORG}"));

      assertThatThrownBy(() -> load(doc(List.of(p), List.of())))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("providers[0].headers");
    }

    @Test
    void providersThatIsNotAListNamesTheKey() {
      assertConfigError(new JsonObject().put("providers", new JsonObject()), "providers");
    }
  }

  @Nested
  class Models {

    @Test
    void endpointNamingAnUndeclaredProviderNamesTheKey() {
      JsonObject doc = doc(List.of(provider("groq", KEY)),
          List.of(model("m", endpoint("groq", 1, 1), endpoint("grok", 1, 1))));

      assertConfigError(doc, "models[0].endpoints[1].provider");
    }

    @Test
    void endpointNamingASkippedProviderIsNotAnError() {
      JsonObject doc = doc(List.of(provider("groq", "${UNSET}")),
          List.of(model("m", endpoint("groq", 1, 1))));

      assertThat(load(doc).models()).isEmpty();
    }

    @Test
    void duplicateModelIdNamesTheKey() {
      JsonObject doc = doc(List.of(provider("groq", KEY)),
          List.of(model("m", endpoint("groq", 1, 1)), model("m", endpoint("groq", 1, 1))));

      assertConfigError(doc, "models[1].id");
    }

    @Test
    void modelWithoutEndpointsNamesTheKey() {
      assertConfigError(doc(List.of(provider("groq", KEY)), List.of(model("m"))),
          "models[0].endpoints");
    }

    @Test
    void contextLengthIsRead() {
      JsonObject doc = doc(List.of(provider("groq", KEY)),
          List.of(model("m", endpoint("groq", 1, 1)).put("contextLength", 131072)));

      assertThat(load(doc).models().get(0).contextLength()).isEqualTo(131072);
    }
  }

  @Nested
  class EndpointParameters {

    private JsonObject withParameters(Object parameters) {
      return doc(List.of(provider("groq", KEY)),
          List.of(model("m", endpoint("groq", 1, 1).put("parameters", parameters))));
    }

    @Test
    void parametersAreReadUnderTheirCanonicalNames() {
      FlopexConfig config = load(withParameters(new JsonArray().add("tools")
          .add("max_completion_tokens").add("reasoning_effort").add("temperature")));

      assertThat(config.models().get(0).endpoints().get(0).parameters())
          .containsExactlyInAnyOrder("tools", "max_tokens", "reasoning", "temperature");
    }

    @Test
    void anEndpointWithoutParametersDeclaresNone() {
      FlopexConfig config = load(doc(List.of(provider("groq", KEY)),
          List.of(model("m", endpoint("groq", 1, 1)))));

      assertThat(config.models().get(0).endpoints().get(0).parameters()).isEmpty();
    }

    @Test
    void anUnknownParameterNamesTheKeyAndTheParameter() {
      assertThatThrownBy(() -> load(withParameters(new JsonArray().add("tools")
          .add("temprature"))))
          .isInstanceOf(ConfigException.class)
          .hasMessageStartingWith("models[0].endpoints[0].parameters[1]: unknown parameter"
              + " 'temprature'; expected one of ")
          .hasMessageContaining("temperature");
    }

    @Test
    void gatewayAndIdentifyingFieldsAreNotParameters() {
      for (String field : List.of("model", "messages", "stream", "user", "metadata",
          "provider")) {
        assertConfigError(withParameters(new JsonArray().add(field)),
            "models[0].endpoints[0].parameters[0]");
      }
    }

    @Test
    void parametersThatAreNotAListNameTheKey() {
      assertConfigError(withParameters("tools"), "models[0].endpoints[0].parameters");
    }

    @Test
    void aParameterThatIsNotTextNamesTheKey() {
      assertConfigError(withParameters(new JsonArray().add(1)),
          "models[0].endpoints[0].parameters[0]");
    }
  }

  @Nested
  class Weights {

    private JsonObject withWeight(Object weight) {
      return doc(List.of(provider("groq", KEY)), List.of(model("m",
          endpoint("groq", 1, 1).put("weight", weight)).put("strategy", "weighted")));
    }

    @Test
    void weightDefaultsToOne() {
      FlopexConfig config = load(doc(List.of(provider("groq", KEY)),
          List.of(model("m", endpoint("groq", 1, 1)))));

      assertThat(config.models().get(0).endpoints().get(0).weight()).isEqualTo(1.0);
    }

    @Test
    void weightAndWeightedStrategyAreRead() {
      FlopexConfig config = load(withWeight(2.5));

      assertThat(config.models().get(0).strategy()).isEqualTo(ModelConfig.Strategy.WEIGHTED);
      assertThat(config.models().get(0).endpoints().get(0).weight()).isEqualTo(2.5);
    }

    @Test
    void aZeroWeightIsAllowed() {
      assertThat(load(withWeight(0)).models().get(0).endpoints().get(0).weight()).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"-1", "heavy", "2000000"})
    void aWeightOutOfRangeOrNotANumberNamesTheKey(String weight) {
      assertConfigError(withWeight(weight), "models[0].endpoints[0].weight");
    }

    @Test
    void weightsOnAModelThatIsNotWeightedAreLoadedWithAWarning() {
      JsonObject doc = doc(List.of(provider("groq", KEY)),
          List.of(model("m", endpoint("groq", 1, 1).put("weight", 2))));

      try (LogCapture logs = LogCapture.debug()) {
        assertThat(load(doc).models().get(0).endpoints().get(0).weight()).isEqualTo(2.0);
        assertThat(logs.text()).contains("Model m: endpoint weights are read only by the"
            + " weighted strategy, not by ordered");
      }
    }

    @Test
    void aWeightThatIsNotANumberNamesTheKey() {
      assertConfigError(withWeight(new JsonArray()), "models[0].endpoints[0].weight");
    }
  }

  @Nested
  class Metrics {

    @Test
    void servedOpenOnTheMainPortByDefault() {
      assertThat(load(new JsonObject()).metrics()).isEqualTo(FlopexConfig.Metrics.DEFAULTS);
      assertThat(FlopexConfig.Metrics.DEFAULTS.ownPort()).isFalse();
    }

    @Test
    void aPortOfItsOwnAndTheAdminToken() {
      FlopexConfig.Metrics metrics = load(new JsonObject().put("metrics", new JsonObject()
          .put("requireAdminToken", true).put("host", "10.0.0.5").put("port", 9464))).metrics();

      assertThat(metrics).isEqualTo(new FlopexConfig.Metrics(true, true, "10.0.0.5", 9464,
          FlopexConfig.Metrics.DEFAULT_VERTX));
      assertThat(metrics.ownPort()).isTrue();
    }

    @Test
    void theEnvironmentTurnsThemOff() {
      env.put("FLOPEX_METRICS_ENABLED", "false");

      assertThat(load(new JsonObject()).metrics().enabled()).isFalse();
    }

    @Test
    void anUnknownKeyIsRefused() {
      assertConfigError(new JsonObject().put("metrics", new JsonObject().put("path", "/m")),
          "metrics.path");
    }

    @Test
    void aPortOutsideItsRangeNamesTheKey() {
      assertConfigError(new JsonObject().put("metrics", new JsonObject().put("port", -1)),
          "metrics.port");
    }

    @Test
    void vertxRecordsTheServerAndThePoolsUnlessToldOtherwise() {
      assertThat(load(new JsonObject()).metrics().vertx()).containsExactlyInAnyOrder(
          FlopexConfig.VertxMeters.HTTP_SERVER, FlopexConfig.VertxMeters.POOLS);

      FlopexConfig.Metrics listed = load(new JsonObject().put("metrics", new JsonObject()
          .put("vertx", new JsonArray().add("http_client").add("EVENT_BUS").add("net"))))
          .metrics();
      assertThat(listed.vertx()).containsExactlyInAnyOrder(FlopexConfig.VertxMeters.HTTP_CLIENT,
          FlopexConfig.VertxMeters.EVENT_BUS, FlopexConfig.VertxMeters.NET);

      assertThat(load(new JsonObject().put("metrics", new JsonObject()
          .put("vertx", new JsonArray()))).metrics().vertx()).isEmpty();
    }

    @Test
    void theEnvironmentNamesTheVertxMetersOrNone() {
      env.put("FLOPEX_METRICS_VERTX", "http_server, pools,http_client,");
      assertThat(load(new JsonObject()).metrics().vertx()).containsExactlyInAnyOrder(
          FlopexConfig.VertxMeters.HTTP_SERVER, FlopexConfig.VertxMeters.POOLS,
          FlopexConfig.VertxMeters.HTTP_CLIENT);

      env.put("FLOPEX_METRICS_VERTX", "none");
      assertThat(load(new JsonObject().put("metrics", new JsonObject()
          .put("vertx", new JsonArray().add("event_bus"))))
          .metrics().vertx()).isEmpty();
    }

    @Test
    void anUnknownGroupOfVertxMetersNamesTheEntryAndTheChoices() {
      assertThatThrownBy(() -> load(new JsonObject().put("metrics", new JsonObject()
              .put("vertx", new JsonArray().add("pools").add("sockets")))))
          .isInstanceOf(ConfigException.class)
          .hasMessage("metrics.vertx[1]: unknown group of Vert.x meters 'sockets'; one of"
              + " http_server, http_client, event_bus, net, pools");
      assertConfigError(new JsonObject().put("metrics", new JsonObject()
          .put("vertx", "http_server")), "metrics.vertx");
      assertConfigError(new JsonObject().put("metrics", new JsonObject()
          .put("vertx", new JsonArray().add(3))), "metrics.vertx[0]");
      assertConfigError(new JsonObject().put("metrics", new JsonObject()
          .put("vertx", new JsonArray().add("pools").add(" "))), "metrics.vertx[1]");
      env.put("FLOPEX_METRICS_VERTX", "http_server,sockets");
      assertConfigError(new JsonObject(), "FLOPEX_METRICS_VERTX");
      env.put("FLOPEX_METRICS_VERTX", " , ");
      assertConfigError(new JsonObject(), "FLOPEX_METRICS_VERTX");
    }
  }

  @Nested
  class Prices {

    @ParameterizedTest
    @CsvSource({
        "0.59, 590000",
        "0.79, 790000",
        "0.88, 880000",
        "0.1, 100000",
        "0.3, 300000",
        "1.1, 1100000",
        "2.675, 2675000",
        "0.025, 25000",
        "0.000001, 1",
        "0.000003, 3",
        "12.345678, 12345678",
        "75.0, 75000000",
        "0.0, 0"})
    void decimalPriceBecomesExactMicrosPerMillion(double usd, long micros) {
      FlopexConfig config = load(withPricing(new JsonObject().put("prompt", usd)
          .put("completion", usd)));

      Pricing pricing = config.models().get(0).endpoints().get(0).pricing();
      assertThat(pricing.promptPerMillion()).isEqualTo(micros);
      assertThat(pricing.completionPerMillion()).isEqualTo(micros);
    }

    @Test
    void integerPricesAreAccepted() {
      Pricing pricing = load(withPricing(new JsonObject().put("prompt", 3).put("completion", 15)))
          .models().get(0).endpoints().get(0).pricing();

      assertThat(pricing).isEqualTo(new Pricing(3_000_000, 15_000_000, 3_000_000));
    }

    @Test
    void textPricesAreAccepted() {
      Pricing pricing = load(withPricing(new JsonObject().put("prompt", "0.59")
          .put("completion", "0.000001"))).models().get(0).endpoints().get(0).pricing();

      assertThat(pricing).isEqualTo(new Pricing(590_000, 1, 590_000));
    }

    @Test
    void cacheReadDefaultsToThePromptPrice() {
      Pricing pricing = load(withPricing(new JsonObject().put("prompt", 0.1)
          .put("completion", 0.4))).models().get(0).endpoints().get(0).pricing();

      assertThat(pricing).isEqualTo(new Pricing(100_000, 400_000, 100_000));
    }

    @Test
    void cacheReadPriceIsRead() {
      Pricing pricing = load(withPricing(new JsonObject().put("prompt", 0.1)
          .put("completion", 0.4).put("cacheRead", 0.025)))
          .models().get(0).endpoints().get(0).pricing();

      assertThat(pricing).isEqualTo(new Pricing(100_000, 400_000, 25_000));
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.0000001, 0.5900001, 1.0000005})
    void moreThanSixDecimalsNamesTheKey(double usd) {
      assertConfigError(withPricing(new JsonObject().put("prompt", 1).put("completion", usd)),
          "models[0].endpoints[0].pricing.completion");
    }

    @Test
    void moreThanSixDecimalsInCachedPromptNamesTheKey() {
      assertConfigError(withPricing(new JsonObject().put("prompt", 1).put("completion", 1)
          .put("cacheRead", "0.0000005")), "models[0].endpoints[0].pricing.cacheRead");
    }

    @Test
    void missingPricingNamesTheKey() {
      JsonObject e = endpoint("groq", 1, 1);
      e.remove("pricing");

      assertConfigError(doc(List.of(provider("groq", KEY)), List.of(model("m", e))),
          "models[0].endpoints[0].pricing");
    }

    @Test
    void missingPromptPriceNamesTheKey() {
      assertConfigError(withPricing(new JsonObject().put("completion", 1)),
          "models[0].endpoints[0].pricing.prompt");
    }

    @Test
    void missingCompletionPriceNamesTheKey() {
      assertConfigError(withPricing(new JsonObject().put("prompt", 1)),
          "models[0].endpoints[0].pricing.completion");
    }

    @Test
    void negativePriceNamesTheKey() {
      assertConfigError(withPricing(new JsonObject().put("prompt", -0.5).put("completion", 1)),
          "models[0].endpoints[0].pricing.prompt");
    }

    @Test
    void nonNumericPriceNamesTheKey() {
      assertConfigError(withPricing(new JsonObject().put("prompt", "cheap").put("completion", 1)),
          "models[0].endpoints[0].pricing.prompt");
    }
  }

  @Nested
  class SampleConfiguration {

    private JsonObject sample() throws IOException {
      try (Reader reader = Files.newBufferedReader(Path.of("conf", "flopex.yaml"))) {
        Map<String, Object> map = new Yaml().load(reader);
        return new JsonObject(map);
      }
    }

    @Test
    void startsWithoutAnyProviderKey() throws IOException {
      FlopexConfig config = load(sample());

      assertThat(config.providers()).isEmpty();
      assertThat(config.models()).isEmpty();
      assertThat(config.server().port()).isEqualTo(8080);
    }

    @Test
    void oneKeyEnablesItsProviderAndTheModelsItServes() throws IOException {
      env.put("GROQ_API_KEY", KEY);

      FlopexConfig config = load(sample());

      assertThat(config.providers()).extracting(ProviderConfig::id).containsExactly("groq");
      assertThat(config.models()).singleElement().satisfies(m -> {
        assertThat(m.id()).isEqualTo("meta-llama/llama-3.3-70b-instruct");
        assertThat(m.endpoints()).containsExactly(new EndpointConfig("groq",
            "llama-3.3-70b-versatile", new Pricing(590_000, 790_000, 590_000)));
      });
    }

    @Test
    void cachedPriceOfTheSampleIsExact() throws IOException {
      env.put("OPENAI_API_KEY", KEY);

      FlopexConfig config = load(sample());

      assertThat(config.models()).singleElement()
          .satisfies(m -> assertThat(m.endpoints().get(0).pricing())
              .isEqualTo(new Pricing(100_000, 400_000, 25_000)));
    }
  }
}
