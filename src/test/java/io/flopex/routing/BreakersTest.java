package io.flopex.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.flopex.bus.HealthFact;
import io.flopex.bus.CapacityReport;
import io.flopex.bus.ProviderFailure;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/** Which failures count against an endpoint, and the JSON shape of health facts. */
class BreakersTest {

  @Test
  void theEndpointsOwnFailuresCount() {
    assertThat(Breakers.counts(ProviderFailure.of(ProviderFailure.Kind.CONNECT))).isTrue();
    assertThat(Breakers.counts(ProviderFailure.of(ProviderFailure.Kind.FIRST_BYTE_TIMEOUT)))
        .isTrue();
    assertThat(Breakers.counts(ProviderFailure.of(ProviderFailure.Kind.PROTOCOL))).isTrue();
    for (int status : new int[] {429, 500, 502, 503, 529, 401, 403}) {
      assertThat(Breakers.counts(new ProviderFailure(ProviderFailure.Kind.HTTP_STATUS, status, 0,
          null))).as("HTTP %d", status).isTrue();
    }
  }

  @Test
  void theClientsMistakesTooLongPromptsAndCancelledCallsDoNot() {
    assertThat(Breakers.counts(new ProviderFailure(ProviderFailure.Kind.HTTP_STATUS, 400, 0,
        new JsonObject().put("message", "bad")))).isFalse();
    assertThat(Breakers.counts(ProviderFailure.of(ProviderFailure.Kind.CONTEXT_LENGTH)))
        .isFalse();
    assertThat(Breakers.counts(ProviderFailure.of(ProviderFailure.Kind.CANCELLED))).isFalse();
  }

  @Test
  void healthFactsSurviveTheirJsonForm() {
    HealthFact cooldown = HealthFact.cooldown("n1", "groq", "llama", 1_000_000L, 999L);
    HealthFact capacity = HealthFact.capacity("n1",
        new CapacityReport("groq", "llama", 0.05, 2_000_000L), 999L);
    HealthFact circuit = HealthFact.circuit("n1", "groq", "llama", "open", 999L);
    for (HealthFact fact : new HealthFact[] {cooldown, capacity, circuit}) {
      assertThat(HealthFact.fromJson(new JsonObject(fact.toJson().encode()))).isEqualTo(fact);
    }
    assertThat(cooldown.toJson().fieldNames()).containsExactlyInAnyOrder("node", "kind",
        "provider", "upstreamModel", "observedAt", "until");
  }
}
