package io.flopex.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.flopex.bus.ProviderPreferences;
import io.flopex.bus.Route;
import io.flopex.bus.RoutePlan;
import io.flopex.bus.RouteRequest;
import io.flopex.config.ConfigLoader;
import io.flopex.config.FlopexConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How a request's provider preferences narrow and reorder a model's endpoints. */
class RoutePlannerTest {

  private static final RoutePlanner PLANNER = planner(null);

  private static RoutePlanner planner(String strategy) {
    JsonArray providers = new JsonArray();
    JsonArray endpoints = new JsonArray();
    Object[][] table = {{"pricey", 5, 15}, {"cheap", 0.5, 1.5}, {"middle", 2, 6}};
    for (Object[] row : table) {
      providers.add(new JsonObject().put("id", row[0]).put("kind", "openai")
          .put("baseUrl", "https://" + row[0] + ".example.com/v1").put("apiKey", "sk-x"));
      endpoints.add(new JsonObject().put("provider", row[0]).put("upstreamModel", "u")
          .put("pricing", new JsonObject().put("prompt", row[1]).put("completion", row[2])));
    }
    JsonObject model = new JsonObject().put("id", "m").put("endpoints", endpoints);
    if (strategy != null) {
      model.put("strategy", strategy);
    }
    JsonObject doc = new JsonObject().put("providers", providers).put("models",
        new JsonArray().add(model));
    FlopexConfig config = new ConfigLoader(Map.<String, String>of()::get).load(doc);
    return new RoutePlanner(config);
  }

  private static List<String> providers(ProviderPreferences prefs) {
    return PLANNER.plan(new RouteRequest("m", prefs)).routes().stream().map(Route::provider)
        .toList();
  }

  private static ProviderPreferences prefs(List<String> order, List<String> only,
      List<String> ignore, boolean fallbacks, boolean byPrice, long maxPrompt,
      long maxCompletion) {
    return new ProviderPreferences(order, only, ignore, fallbacks, byPrice, maxPrompt,
        maxCompletion);
  }

  @Test
  void withoutPreferencesTheConfiguredOrderHolds() {
    assertThat(providers(ProviderPreferences.NONE)).containsExactly("pricey", "cheap", "middle");
  }

  @Test
  void orderPutsTheNamedProvidersFirstThenTheRest() {
    assertThat(providers(prefs(List.of("middle"), List.of(), List.of(), true, false, -1, -1)))
        .containsExactly("middle", "pricey", "cheap");
  }

  @Test
  void withoutFallbacksOnlyTheOrderedProvidersRemain() {
    assertThat(providers(prefs(List.of("middle", "cheap"), List.of(), List.of(), false, false,
        -1, -1))).containsExactly("middle", "cheap");
  }

  @Test
  void onlyAndIgnoreFilter() {
    assertThat(providers(prefs(List.of(), List.of("cheap", "pricey"), List.of(), true, false,
        -1, -1))).containsExactly("pricey", "cheap");
    assertThat(providers(prefs(List.of(), List.of(), List.of("pricey"), true, false, -1, -1)))
        .containsExactly("cheap", "middle");
  }

  @Test
  void sortByPriceTriesTheCheapestFirst() {
    assertThat(providers(prefs(List.of(), List.of(), List.of(), true, true, -1, -1)))
        .containsExactly("cheap", "middle", "pricey");
  }

  @Test
  void maxPriceDropsEndpointsAboveEitherCeiling() {
    assertThat(providers(prefs(List.of(), List.of(), List.of(), true, false, 2_000_000, -1)))
        .containsExactly("cheap", "middle");
    assertThat(providers(prefs(List.of(), List.of(), List.of(), true, false, -1, 1_500_000)))
        .containsExactly("cheap");
    assertThat(PLANNER.plan(new RouteRequest("m", prefs(List.of(), List.of(), List.of(), true,
        false, 100_000, -1)))).satisfies(plan -> {
          assertThat(plan.modelKnown()).isTrue();
          assertThat(plan.routes()).isEmpty();
        });
  }

  @Test
  void anUnknownModelIsNotKnown() {
    assertThat(PLANNER.plan(new RouteRequest("nope")).modelKnown()).isFalse();
  }

  @Test
  void aModelCanBeConfiguredToTryItsCheapestEndpointFirst() {
    RoutePlanner byPrice = planner("price");

    assertThat(byPrice.plan(new RouteRequest("m")).routes().stream().map(Route::provider))
        .containsExactly("cheap", "middle", "pricey");
    assertThat(planner("latency").plan(new RouteRequest("m")).defaultSort())
        .isEqualTo(ProviderPreferences.HealthSort.LATENCY);
  }

  @Test
  void aModelCanBeConfiguredToDrawItsOrderByWeight() {
    RoutePlan plan = planner("weighted").plan(new RouteRequest("m"));

    assertThat(plan.defaultSort()).isEqualTo(ProviderPreferences.HealthSort.WEIGHTED);
    assertThat(plan.routes()).extracting(Route::weight).containsOnly(1.0);
  }

  @Test
  void anUnknownStrategyIsAConfigurationError() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> planner("random"))
        .hasMessageStartingWith("models[0].strategy:");
  }

  /** The three endpoints again, "pricey" declaring tools and temperature, "cheap" temperature. */
  private static RoutePlanner withParameters() {
    JsonArray providers = new JsonArray();
    JsonArray endpoints = new JsonArray();
    Object[][] table = {{"pricey", List.of("tools", "temperature")}, {"cheap",
        List.of("temperature")}, {"middle", null}};
    for (Object[] row : table) {
      providers.add(new JsonObject().put("id", row[0]).put("kind", "openai")
          .put("baseUrl", "https://" + row[0] + ".example.com/v1").put("apiKey", "sk-x"));
      JsonObject endpoint = new JsonObject().put("provider", row[0]).put("upstreamModel", "u")
          .put("pricing", new JsonObject().put("prompt", 1).put("completion", 1));
      if (row[1] != null) {
        endpoint.put("parameters", new JsonArray((List<?>) row[1]));
      }
      endpoints.add(endpoint);
    }
    JsonObject doc = new JsonObject().put("providers", providers).put("models",
        new JsonArray().add(new JsonObject().put("id", "m").put("endpoints", endpoints)));
    return new RoutePlanner(new ConfigLoader(Map.<String, String>of()::get).load(doc));
  }

  private static ProviderPreferences requiring(List<String> only, String... parameters) {
    return new ProviderPreferences(List.of(), only, List.of(), true, false, -1, -1,
        ProviderPreferences.HealthSort.NONE, List.of(parameters));
  }

  @Test
  void requiredParametersKeepOnlyEndpointsThatDeclareThemAll() {
    RoutePlan plan = withParameters().plan(new RouteRequest("m",
        requiring(List.of(), "temperature")));

    assertThat(plan.routes()).extracting(Route::provider).containsExactly("pricey", "cheap");
    assertThat(withParameters().plan(new RouteRequest("m", requiring(List.of(), "temperature",
        "tools"))).routes()).extracting(Route::provider).containsExactly("pricey");
  }

  @Test
  void anEndpointWithoutAParameterListServesNoRequestThatRequiresParameters() {
    RoutePlan plan = withParameters().plan(new RouteRequest("m",
        requiring(List.of("middle"), "temperature")));

    assertThat(plan.routes()).isEmpty();
    assertThat(plan.unsupportedParameters()).containsExactly("temperature");
  }

  @Test
  void whenParametersLeaveNoEndpointThePlanNamesThem() {
    RoutePlan plan = withParameters().plan(new RouteRequest("m",
        requiring(List.of(), "seed", "tools")));

    assertThat(plan.modelKnown()).isTrue();
    assertThat(plan.routes()).isEmpty();
    assertThat(plan.unsupportedParameters()).containsExactly("seed", "tools");
  }

  @Test
  void whenOtherPreferencesLeaveNoEndpointParametersAreNotBlamed() {
    RoutePlan plan = withParameters().plan(new RouteRequest("m",
        requiring(List.of("nobody"), "seed")));

    assertThat(plan.routes()).isEmpty();
    assertThat(plan.unsupportedParameters()).isEmpty();
  }

  @Test
  void withoutRequiredParametersEndpointsWithoutAListServe() {
    assertThat(withParameters().plan(new RouteRequest("m")).routes()).extracting(Route::provider)
        .containsExactly("pricey", "cheap", "middle");
  }
}
