package io.flopex.config;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A misspelt key would silently keep its default; the loader refuses it and names it. */
class ConfigUnknownKeysTest {

  private static JsonObject valid() {
    return new JsonObject()
        .put("server", new JsonObject().put("port", 9000))
        .put("providers", new JsonArray().add(new JsonObject().put("id", "p")
            .put("kind", "openai").put("baseUrl", "https://api.example.com/v1")
            .put("apiKey", "sk-x").put("timeouts", new JsonObject().put("connectMs", 100))))
        .put("models", new JsonArray().add(new JsonObject().put("id", "m")
            .put("endpoints", new JsonArray().add(new JsonObject().put("provider", "p")
                .put("upstreamModel", "u")
                .put("pricing", new JsonObject().put("prompt", 1).put("completion", 2))))));
  }

  private static void assertRefused(JsonObject doc, String key) {
    assertThatThrownBy(() -> new ConfigLoader(Map.<String, String>of()::get).load(doc))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(key + ": unknown key");
  }

  @Test
  void validDocumentLoads() {
    new ConfigLoader(Map.<String, String>of()::get).load(valid());
  }

  @ParameterizedTest
  @ValueSource(strings = {"prot", "maxBody"})
  void misspeltServerKeyIsRefused(String key) {
    JsonObject doc = valid();
    doc.getJsonObject("server").put(key, 1);
    assertRefused(doc, "server." + key);
  }

  @Test
  void misspeltTopLevelTimeoutAndPricingKeysAreRefused() {
    JsonObject top = valid().put("provider", new JsonArray());
    assertRefused(top, "provider");

    JsonObject timeouts = valid();
    timeouts.getJsonArray("providers").getJsonObject(0).getJsonObject("timeouts")
        .put("firstByte", 5);
    assertRefused(timeouts, "providers[0].timeouts.firstByte");

    JsonObject pricing = valid();
    pricing.getJsonArray("models").getJsonObject(0).getJsonArray("endpoints").getJsonObject(0)
        .getJsonObject("pricing").put("cached", 0.1);
    assertRefused(pricing, "models[0].endpoints[0].pricing.cached");
  }

  @Test
  void absurdPriceIsRefusedAsTooLarge() {
    JsonObject doc = valid();
    doc.getJsonArray("models").getJsonObject(0).getJsonArray("endpoints").getJsonObject(0)
        .getJsonObject("pricing").put("prompt", 1e30);
    assertThatThrownBy(() -> new ConfigLoader(Map.<String, String>of()::get).load(doc))
        .hasMessageContaining("pricing.prompt: above");
  }
}
