package io.flopex.cluster;

import static io.flopex.testing.FakeUpstream.fixture;
import static io.flopex.testing.FakeUpstream.json;
import static io.flopex.testing.FakeUpstream.openAiError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flopex.testing.Chunks;
import io.flopex.testing.ClusterNodes;
import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.Sync;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Three nodes in one cluster: what one node learns about a provider's capacity and health, the
 * others act on without hitting the provider themselves, and a node that joins later knows it
 * too.
 */
class ClusterTest {

  private Vertx upstreams;
  private FakeUpstream a;
  private FakeUpstream b;
  private ClusterNodes cluster;

  @BeforeEach
  void start() {
    upstreams = Vertx.vertx();
    a = FakeUpstream.start(upstreams);
    b = FakeUpstream.start(upstreams);
    b.always(json(200, fixture("openai/openai-text.json")));
    cluster = new ClusterNodes();
  }

  @AfterEach
  void stop() {
    cluster.close();
    a.close();
    b.close();
    Sync.await(upstreams.close());
  }

  private Gateway node() {
    return cluster.start(builder -> builder
        .provider("a", a.baseUrl())
        .provider("b", b.baseUrl())
        .model("m", "a", "b")
        .breaker(2, 60_000));
  }

  private static HttpResponse<String> ask(Gateway node) {
    return node.post("/v1/chat/completions", Chunks.request(false, ""));
  }

  private static void assertServedByBAlone(Gateway node) {
    HttpResponse<String> response = ask(node);
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("x-flopex-provider")).hasValue("b");
    assertThat(response.headers().firstValue("x-flopex-attempts")).hasValue("1");
  }

  private static boolean resting(Gateway node, String provider) {
    return ClusterNodes.endpoint(node, "m", provider).containsKey("restingUntil");
  }

  @Test
  void b16_aProviderThatAnswered429ToOneNodeGetsNoTrafficFromAnyNode() {
    List<Gateway> nodes = List.of(node(), node(), node());
    a.always(json(429, openAiError("Rate limit reached", "requests", "rate_limit_exceeded"),
        "retry-after", "30"));

    assertThat(ask(nodes.get(0)).headers().firstValue("x-flopex-provider")).hasValue("b");
    assertThat(a.calls()).isEqualTo(1);

    for (Gateway other : nodes.subList(1, 3)) {
      await().atMost(Duration.ofSeconds(5)).until(() -> resting(other, "a"));
      for (int i = 0; i < 3; i++) {
        assertServedByBAlone(other);
      }
    }
    assertThat(a.calls()).isEqualTo(1);
  }

  @Test
  void readinessShowsEachNodeItsClusterAndTheProvidersItSeesResting() {
    List<Gateway> nodes = List.of(node(), node(), node());
    a.always(json(429, openAiError("Rate limit reached", "requests", "rate_limit_exceeded"),
        "retry-after", "30"));
    ask(nodes.get(0));

    for (Gateway node : nodes) {
      await().atMost(Duration.ofSeconds(5)).until(() -> resting(node, "a"));
      java.net.http.HttpResponse<String> ready = node.send(java.net.http.HttpRequest.newBuilder(
          java.net.URI.create(node.url("/health/ready"))).GET().build());
      assertThat(ready.statusCode()).isEqualTo(200);
      io.vertx.core.json.JsonObject body = new io.vertx.core.json.JsonObject(ready.body());
      assertThat(body.getJsonObject("cluster")).isEqualTo(new io.vertx.core.json.JsonObject()
          .put("enabled", true).put("active", true).put("nodes", 3));
      assertThat(body.getJsonObject("providers").getInteger("resting")).isEqualTo(1);
    }
  }

  @Test
  void aNodeThatJoinsLaterLearnsTheCooldownsInForce() {
    Gateway first = node();
    node();
    a.always(json(429, openAiError("Rate limit reached", "requests", "rate_limit_exceeded"),
        "retry-after", "30"));
    ask(first);

    Gateway late = node();

    assertThat(resting(late, "a")).isTrue();
    JsonObject view = ClusterNodes.endpoint(late, "m", "a");
    JsonObject origin = ClusterNodes.endpoint(first, "m", "a");
    assertThat(view.getString("restingUntil")).isEqualTo(origin.getString("restingUntil"));
    assertServedByBAlone(late);
    assertThat(a.calls()).isEqualTo(1);
  }

  @Test
  void aCircuitOpenedOnOneNodeOpensOnEveryNode() {
    List<Gateway> nodes = List.of(node(), node(), node());
    a.always(json(500, openAiError("boom", "server_error", null)));
    ask(nodes.get(0));
    ask(nodes.get(0));
    assertThat(a.calls()).isEqualTo(2);

    for (Gateway other : nodes.subList(1, 3)) {
      await().atMost(Duration.ofSeconds(5)).until(() ->
          ClusterNodes.endpoint(other, "m", "a").getString("circuit").equals("open"));
      assertServedByBAlone(other);
    }
    assertThat(a.calls()).isEqualTo(2);
    Gateway late = node();
    assertThat(ClusterNodes.endpoint(late, "m", "a").getString("circuit")).isEqualTo("open");
    assertServedByBAlone(late);
  }

  @Test
  void aBudgetSpentOnOneNodeIsRespectedByTheOthersBeforeAny429() {
    List<Gateway> nodes = List.of(node(), node());
    a.always(json(200, fixture("openai/openai-text.json"),
        "x-ratelimit-limit-requests", "100", "x-ratelimit-remaining-requests", "0",
        "x-ratelimit-reset-requests", "30s"));

    assertThat(ask(nodes.get(0)).headers().firstValue("x-flopex-provider")).hasValue("a");

    await().atMost(Duration.ofSeconds(5)).until(() -> resting(nodes.get(1), "a"));
    assertServedByBAlone(nodes.get(1));
    assertThat(a.calls()).isEqualTo(1);
  }

  @Test
  void b16c_whenEveryEndpointRestsEveryNodeAnswersAtOnceWithoutCallingAnyone() {
    List<Gateway> nodes = List.of(node(), node());
    String limited = openAiError("Rate limit reached", "requests", "rate_limit_exceeded");
    a.always(json(429, limited, "retry-after", "30"));
    b.always(json(429, limited, "retry-after", "20"));
    assertThat(ask(nodes.get(0)).statusCode()).isEqualTo(503);
    assertThat(a.calls() + b.calls()).isEqualTo(2);

    await().atMost(Duration.ofSeconds(5)).until(() -> resting(nodes.get(1), "a")
        && resting(nodes.get(1), "b"));
    HttpResponse<String> response = ask(nodes.get(1));

    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(Long.parseLong(response.headers().firstValue("retry-after").orElseThrow()))
        .isBetween(15L, 20L);
    assertThat(response.headers().firstValue("x-flopex-attempts")).hasValue("0");
    assertThat(a.calls() + b.calls()).isEqualTo(2);
  }

  @Test
  void malformedOrOutlandishHealthMessagesFromTheClusterAreIgnored() {
    List<Gateway> nodes = List.of(node(), node());
    Vertx rogue = cluster.vertx(1);
    long now = System.currentTimeMillis();
    JsonObject base = new JsonObject().put("node", "rogue").put("provider", "a")
        .put("upstreamModel", "up-a").put("observedAt", now);
    // Each of these would change how node 0 routes to a, if it were applied.
    rogue.eventBus().publish("flopex.health", base.copy().put("kind", "cooldown")
        .put("until", String.valueOf(now + 60_000)));
    rogue.eventBus().publish("flopex.health", base.copy().put("kind", "cooldown")
        .put("until", Long.MAX_VALUE));
    rogue.eventBus().publish("flopex.health", base.copy().put("kind", "cooldown")
        .put("until", now + 10L * 24 * 3_600_000));
    rogue.eventBus().publish("flopex.health", base.copy().put("kind", "capacity")
        .put("fractionLeft", -1.0).put("resetAt", now + 60_000));
    rogue.eventBus().publish("flopex.health", base.copy().put("kind", "circuit")
        .put("state", "opened"));
    rogue.eventBus().publish("flopex.health", base.copy().put("kind", "eclipse"));
    rogue.eventBus().publish("flopex.health", "not json");
    // Then a well-formed fact about b, which arrives after them: once it is applied, they were
    // all handled.
    rogue.eventBus().publish("flopex.health", base.copy().put("provider", "b")
        .put("upstreamModel", "up-b").put("kind", "cooldown").put("until", now + 60_000));

    await().atMost(Duration.ofSeconds(5)).until(() -> resting(nodes.get(0), "b"));
    JsonObject view = ClusterNodes.endpoint(nodes.get(0), "m", "a");
    assertThat(view.containsKey("restingUntil")).isFalse();
    assertThat(view.containsKey("budgetLeft")).isFalse();
    assertThat(view.getString("circuit")).isEqualTo("closed");
    a.always(json(200, fixture("openai/openai-text.json")));
    assertThat(ask(nodes.get(0)).headers().firstValue("x-flopex-provider")).hasValue("a");
  }
}
