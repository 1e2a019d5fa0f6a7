package io.flopex.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.flopex.bus.AttemptOutcome;
import io.flopex.bus.ProviderFailure;
import io.flopex.bus.Route;
import io.flopex.bus.RoutePlan;
import io.flopex.config.Pricing;
import io.flopex.config.ProviderKind;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which failures send an endpoint to rest, and for how long. */
class CooldownsTest {

  private static final Route A = route("a");
  private static final Route B = route("b");
  private static final RoutePlan PLAN = new RoutePlan("m", List.of(A, B), 4);

  private static Route route(String provider) {
    return new Route(provider, ProviderKind.OPENAI, "u", new Pricing(1, 1, 1), 1000, 1000, 1000);
  }

  private static AttemptOutcome failed(Route route, int status, long retryAfterMs, long at) {
    return new AttemptOutcome(route.provider(), route.upstreamModel(),
        new ProviderFailure(ProviderFailure.Kind.HTTP_STATUS, status, retryAfterMs, null), at);
  }

  @Test
  void a429RestsTheEndpointForItsRetryAfter() {
    Cooldowns cooldowns = new Cooldowns(60_000);
    cooldowns.record(failed(A, 429, 4_000, 1_000));

    assertThat(cooldowns.apply(PLAN, 4_999).routes()).containsExactly(B);
    assertThat(cooldowns.apply(PLAN, 4_999).coolingUntilMillis()).isEqualTo(5_000);
    assertThat(cooldowns.apply(PLAN, 5_000).routes()).containsExactly(A, B);
  }

  @Test
  void b16b_aLaterShorterRestNeverShortensAnEarlierOne() {
    Cooldowns cooldowns = new Cooldowns(60_000);
    cooldowns.record(failed(A, 429, 0, 1_000));
    cooldowns.record(failed(A, 429, 1_000, 1_250));

    assertThat(cooldowns.apply(PLAN, 60_999).routes()).containsExactly(B);
    assertThat(cooldowns.apply(PLAN, 61_000).routes()).containsExactly(A, B);
  }

  @Test
  void overloadRestsOnlyWhenTheProviderSaidForHowLong() {
    Cooldowns cooldowns = new Cooldowns(60_000);
    cooldowns.record(failed(A, 503, 0, 1_000));
    cooldowns.record(failed(B, 529, 2_000, 1_000));

    assertThat(cooldowns.apply(PLAN, 1_500).routes()).containsExactly(A);
  }

  @Test
  void serverErrorsAndClientErrorsDoNotRest() {
    Cooldowns cooldowns = new Cooldowns(60_000);
    cooldowns.record(failed(A, 500, 5_000, 1_000));
    cooldowns.record(failed(B, 400, 5_000, 1_000));

    assertThat(cooldowns.apply(PLAN, 1_500)).isSameAs(PLAN);
  }

  @Test
  void whenEveryEndpointRestsThePlanSaysWhenTheFirstRecovers() {
    Cooldowns cooldowns = new Cooldowns(60_000);
    cooldowns.record(failed(A, 429, 30_000, 1_000));
    cooldowns.record(failed(B, 429, 20_000, 1_000));

    RoutePlan plan = cooldowns.apply(PLAN, 2_000);
    assertThat(plan.routes()).isEmpty();
    assertThat(plan.coolingUntilMillis()).isEqualTo(21_000);
  }
}
