package io.flopex.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The cluster, bridge and circuit-breaker sections of the configuration. */
class ClusterConfigTest {

  private final Map<String, String> env = new HashMap<>();

  private FlopexConfig load(JsonObject doc) {
    return new ConfigLoader(env::get).load(doc);
  }

  @Test
  void everythingIsOffByDefault() {
    FlopexConfig config = load(new JsonObject());
    assertThat(config.cluster().enabled()).isFalse();
    assertThat(config.cluster().members()).isEmpty();
    assertThat(config.cluster().multicast()).isFalse();
    assertThat(config.bridge().enabled()).isFalse();
    assertThat(config.bridge().host()).isEqualTo("127.0.0.1");
    assertThat(config.routing().breaker()).isEqualTo(FlopexConfig.Breaker.DEFAULTS);
  }

  @Test
  void clusterSectionIsRead() {
    FlopexConfig.Cluster cluster = load(new JsonObject().put("cluster", new JsonObject()
        .put("enabled", true).put("name", "prod").put("host", "10.0.0.5").put("port", 6000)
        .put("members", new JsonArray().add("10.0.0.6").add("10.0.0.7:6001"))
        .put("eventBusPort", 7100))).cluster();
    assertThat(cluster).isEqualTo(new FlopexConfig.Cluster(true, "prod", "10.0.0.5", 6000,
        List.of("10.0.0.6", "10.0.0.7:6001"), false, 7100));
  }

  @Test
  void environmentOverridesTheFile() {
    env.put("FLOPEX_CLUSTER", "true");
    env.put("FLOPEX_CLUSTER_HOST", "10.1.1.1");
    env.put("FLOPEX_CLUSTER_MEMBERS", "10.1.1.1:5701, 10.1.1.2:5701,");
    FlopexConfig.Cluster cluster = load(new JsonObject().put("cluster", new JsonObject()
        .put("enabled", false).put("members", new JsonArray().add("10.9.9.9")))).cluster();
    assertThat(cluster.enabled()).isTrue();
    assertThat(cluster.host()).isEqualTo("10.1.1.1");
    assertThat(cluster.members()).containsExactly("10.1.1.1:5701", "10.1.1.2:5701");
  }

  @ParameterizedTest
  @ValueSource(strings = {"127.0.0.1:5701-5704", "127.0.0.1:0", "127.0.0.1:99999",
      "a b", "x:y"})
  void memberAddressesHazelcastWouldRefuseAreRefusedNamingTheEntry(String member) {
    assertThatThrownBy(() -> load(new JsonObject().put("cluster", new JsonObject()
        .put("members", new JsonArray().add("10.0.0.1").add(member)))))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("cluster.members[1]: '" + member + "'");
  }

  @Test
  void aMemberThatIsNotTextIsRefused() {
    assertThatThrownBy(() -> load(new JsonObject().put("cluster", new JsonObject()
        .put("members", new JsonArray().add(5701)))))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("cluster.members[0]:");
  }

  @Test
  void aBooleanThatIsNotOneIsRefused() {
    assertThatThrownBy(() -> load(new JsonObject().put("cluster", new JsonObject()
        .put("enabled", "perhaps"))))
        .isInstanceOf(ConfigException.class)
        .hasMessage("cluster.enabled: 'perhaps' must be true or false");
    env.put("FLOPEX_CLUSTER", "maybe");
    assertThatThrownBy(() -> load(new JsonObject()))
        .isInstanceOf(ConfigException.class)
        .hasMessage("FLOPEX_CLUSTER: 'maybe' must be true or false");
  }

  @Test
  void misspeltKeysInTheNewSectionsAreRefused() {
    assertThatThrownBy(() -> load(new JsonObject().put("cluster", new JsonObject()
        .put("memebers", new JsonArray()))))
        .hasMessageStartingWith("cluster.memebers: unknown key");
    assertThatThrownBy(() -> load(new JsonObject().put("bridge", new JsonObject()
        .put("prot", 1))))
        .hasMessageStartingWith("bridge.prot: unknown key");
    assertThatThrownBy(() -> load(new JsonObject().put("routing", new JsonObject()
        .put("breaker", new JsonObject().put("failure", 3)))))
        .hasMessageStartingWith("routing.breaker.failure: unknown key");
  }

  @Test
  void breakerSettingsAreBounded() {
    assertThat(load(new JsonObject().put("routing", new JsonObject().put("breaker",
        new JsonObject().put("failures", 3).put("windowMs", 5000).put("resetMs", 1000))))
        .routing().breaker()).isEqualTo(new FlopexConfig.Breaker(3, 5000, 1000));
    assertThatThrownBy(() -> load(new JsonObject().put("routing", new JsonObject().put("breaker",
        new JsonObject().put("failures", 0)))))
        .hasMessage("routing.breaker.failures: 0 is outside 1..10000");
    assertThatThrownBy(() -> load(new JsonObject().put("routing", new JsonObject().put("breaker",
        new JsonObject().put("windowMs", 10)))))
        .hasMessageStartingWith("routing.breaker.windowMs: 10 is outside");
  }
}
