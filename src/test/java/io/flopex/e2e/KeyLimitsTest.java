package io.flopex.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.Sync;
import io.flopex.testing.TestPostgres;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A key's own limits, counted in the shared database so that two nodes together never let
 * through more than the key allows.
 */
class KeyLimitsTest {

  private final List<Vertx> vertxes = new ArrayList<>();
  private final List<Gateway> nodes = new ArrayList<>();
  private final HttpClient http = HttpClient.newHttpClient();
  private final AtomicBoolean slow = new AtomicBoolean();
  /** While set, answers wait until it completes. */
  private volatile CompletableFuture<Void> hold;
  private Vertx upstreams;
  private FakeUpstream upstream;
  private String database;

  @BeforeEach
  void start() {
    upstreams = Vertx.vertx();
    upstream = FakeUpstream.start(upstreams);
    // 100 prompt and 200 completion tokens, as JSON or as a stream ending in a usage chunk.
    upstream.always((req, resp, vertx) -> {
      boolean stream = upstream.bodyOf(req).getBoolean("stream", false);
      long delay = slow.get() ? 400 : 1;
      CompletableFuture<Void> held = hold;
      io.vertx.core.Context context = vertx.getOrCreateContext();
      java.util.function.Consumer<Runnable> later = answer -> {
        if (held == null) {
          vertx.setTimer(delay, id -> answer.run());
        } else {
          held.thenRun(() -> context.runOnContext(v -> answer.run()));
        }
      };
      later.accept(() -> {
        if (stream) {
          resp.setStatusCode(200).putHeader("content-type", "text/event-stream")
              .end("data: " + chunk(new JsonObject().put("role", "assistant")
                  .put("content", "ok"), null) + "\n\n"
                  + "data: " + chunk(new JsonObject(), "stop") + "\n\n"
                  + "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,"
                  + "\"model\":\"up-p\",\"choices\":[],\"usage\":{\"prompt_tokens\":100,"
                  + "\"completion_tokens\":200,\"total_tokens\":300}}\n\n"
                  + "data: [DONE]\n\n");
        } else {
          resp.setStatusCode(200).putHeader("content-type", "application/json")
              .end(new JsonObject().put("id", "c").put("object", "chat.completion")
                  .put("created", 1).put("model", "up-p")
                  .put("choices", new JsonArray().add(new JsonObject().put("index", 0)
                      .put("message", new JsonObject().put("role", "assistant")
                          .put("content", "ok")).put("finish_reason", "stop")))
                  .put("usage", new JsonObject().put("prompt_tokens", 100)
                      .put("completion_tokens", 200).put("total_tokens", 300)).encode());
        }
      });
    });
    database = TestPostgres.newDatabaseUrl();
    for (int i = 0; i < 2; i++) {
      Vertx vertx = Vertx.vertx();
      vertxes.add(vertx);
      nodes.add(Gateway.builder(vertx)
          .provider("p", upstream.baseUrl())
          .model("m", "p")
          .model("other", "p")
          .database(database)
          .start());
    }
  }

  @AfterEach
  void stop() {
    TestPostgres.reachable(database, true);
    nodes.forEach(Gateway::close);
    vertxes.forEach(v -> Sync.await(v.close()));
    upstream.close();
    Sync.await(upstreams.close());
  }

  private static String chunk(JsonObject delta, String finish) {
    return new JsonObject().put("id", "c").put("object", "chat.completion.chunk")
        .put("created", 1).put("model", "up-p").put("choices", new JsonArray()
            .add(new JsonObject().put("index", 0).put("delta", delta)
                .put("finish_reason", finish))).encode();
  }

  private final java.util.Map<String, String> keyIds = new java.util.HashMap<>();

  private String key(JsonObject limits) {
    JsonObject created = nodes.get(0).adminPost("/admin/v1/accounts/"
        + nodes.get(0).accountId() + "/keys", limits.put("name", "limited"));
    keyIds.put(created.getString("key"), created.getString("id"));
    return created.getString("key");
  }

  private CompletableFuture<HttpResponse<String>> ask(int node, String key, boolean stream,
      String model) {
    return http.sendAsync(HttpRequest.newBuilder(URI.create(nodes.get(node)
                .url("/v1/chat/completions")))
            .header("authorization", "Bearer " + key).header("content-type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + model + "\",\"stream\":"
                + stream + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> askNow(int node, String key, boolean stream) {
    return ask(node, key, stream, "m").join();
  }

  @Test
  void b24a_requestsAMinuteHoldAcrossTwoNodes() {
    String key = key(new JsonObject().put("rpm", 10));
    List<HttpResponse<String>> responses = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      responses.add(askNow(i % 2, key, false));
    }

    assertThat(responses.stream().filter(r -> r.statusCode() == 200).count()).isEqualTo(10);
    HttpResponse<String> first = responses.get(0);
    assertThat(first.headers().firstValue("x-ratelimit-limit-requests")).hasValue("10");
    assertThat(first.headers().firstValue("x-ratelimit-remaining-requests")).hasValue("9");
    assertThat(first.headers().firstValue("x-ratelimit-reset-requests")).isPresent();
    for (HttpResponse<String> refused : responses.subList(10, 20)) {
      assertThat(refused.statusCode()).isEqualTo(429);
      assertThat(Long.parseLong(refused.headers().firstValue("retry-after").orElseThrow()))
          .isBetween(1L, 60L);
      assertThat(refused.headers().firstValue("x-ratelimit-remaining-requests")).hasValue("0");
      assertThat(new JsonObject(refused.body()).getJsonObject("error").getString("code"))
          .isEqualTo("rate_limit_exceeded");
    }
    assertThat(upstream.calls()).isEqualTo(10);
  }

  @Test
  void b24a_aBurstOfOneKeyOnTwoNodesIsAdmittedOneByOne() {
    // Many requests of one key at once: each node admits them in batches, and each admitted
    // request still sees the count the ones before it left.
    String key = key(new JsonObject().put("rpm", 60));
    List<CompletableFuture<HttpResponse<String>>> burst = new ArrayList<>();
    for (int i = 0; i < 160; i++) {
      burst.add(ask(i % 2, key, false, "m"));
    }
    List<HttpResponse<String>> responses = burst.stream().map(CompletableFuture::join).toList();

    List<HttpResponse<String>> admitted = responses.stream()
        .filter(r -> r.statusCode() == 200).toList();
    assertThat(admitted).hasSize(60);
    assertThat(responses.stream().filter(r -> r.statusCode() == 429).count()).isEqualTo(100);
    assertThat(admitted.stream()
            .map(r -> r.headers().firstValue("x-ratelimit-remaining-requests").orElseThrow())
            .map(Long::parseLong).distinct().count())
        .as("each admitted request has its own place in the minute").isEqualTo(60);
    assertThat(upstream.calls()).isEqualTo(60);
    await().atMost(Duration.ofSeconds(5)).until(() -> nodes.get(0).sql(
        "SELECT coalesce(sum(in_flight), 0) FROM key_leases").get(0).getLong(0) == 0);
    io.vertx.sqlclient.Row counts = nodes.get(0).sql("SELECT sum(started)::bigint,"
        + " sum(finished)::bigint, sum(tokens)::bigint FROM key_seconds").get(0);
    assertThat(List.of(counts.getLong(0), counts.getLong(1), counts.getLong(2)))
        .containsExactly(60L, 60L, 60L * 300);
  }

  @Test
  void b24b_tokensAMinuteAreCountedFromRealUsageStreamsIncluded() {
    String key = key(new JsonObject().put("tpm", 1000));

    assertThat(askNow(0, key, true).statusCode()).isEqualTo(200);
    assertThat(askNow(1, key, false).statusCode()).isEqualTo(200);
    assertThat(askNow(0, key, true).statusCode()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(5)).until(() -> nodes.get(0).sql(
        "SELECT coalesce(sum(tokens), 0) FROM key_seconds").get(0).getLong(0) == 900);

    HttpResponse<String> fourth = askNow(1, key, true);

    assertThat(fourth.statusCode()).isEqualTo(429);
    assertThat(fourth.headers().firstValue("x-ratelimit-remaining-tokens")).hasValue("100");
    assertThat(fourth.headers().firstValue("retry-after")).isPresent();
    assertThat(upstream.calls()).isEqualTo(3);
  }

  @Test
  void requestsInFlightAreBoundedAndTheirSlotsComeBack() {
    String key = key(new JsonObject().put("max_concurrent", 2));
    slow.set(true);
    List<CompletableFuture<HttpResponse<String>>> pending = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      pending.add(ask(i % 2, key, i % 3 == 0, "m"));
    }
    List<HttpResponse<String>> responses = pending.stream().map(CompletableFuture::join).toList();

    assertThat(responses.stream().filter(r -> r.statusCode() == 200).count()).isEqualTo(2);
    assertThat(responses.stream().filter(r -> r.statusCode() == 429).count()).isEqualTo(4);
    await().atMost(Duration.ofSeconds(5)).until(() -> nodes.get(0).sql(
        "SELECT coalesce(sum(in_flight), 0) FROM key_leases").get(0).getLong(0) == 0);
    slow.set(false);
    assertThat(askNow(1, key, false).statusCode()).isEqualTo(200);
  }

  @Test
  void b24c_whenTheSharedStateIsUnreachableRequestsAreRefusedNotLetThrough() {
    String key = key(new JsonObject().put("rpm", 3));
    assertThat(askNow(0, key, false).statusCode()).isEqualTo(200);
    assertThat(askNow(1, key, false).statusCode()).isEqualTo(200);
    int before = upstream.calls();

    TestPostgres.reachable(database, false);
    List<CompletableFuture<HttpResponse<String>>> pending = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      pending.add(ask(i % 2, key, false, "m"));
    }
    List<HttpResponse<String>> responses = pending.stream().map(CompletableFuture::join).toList();

    assertThat(responses).allSatisfy(r -> assertThat(r.statusCode()).isEqualTo(503));
    assertThat(upstream.calls()).isEqualTo(before);
  }

  @Test
  void aKeysSpendingLimitRefusesWhatWouldPassIt() {
    // 1.5 and 2.0 USD per million: one request reserves about 4096 output tokens' worth.
    String key = key(new JsonObject().put("limit_micros", 5_000).put("limit_reset", "daily"));
    HttpResponse<String> refused = askNow(0, key, false);
    assertThat(refused.statusCode()).isEqualTo(402);
    assertThat(new JsonObject(refused.body()).getJsonObject("error").getString("code"))
        .isEqualTo("key_limit_exceeded");
    assertThat(refused.headers().firstValue("retry-after")).isPresent();
    assertThat(upstream.calls()).isZero();
    String roomy = key(new JsonObject().put("limit_micros", 100_000));
    assertThat(askNow(1, roomy, false).statusCode()).isEqualTo(200);
  }

  @Test
  void spendingOfEarlierDaysCountsInItsPeriodAndALifetimeLimitOutlivesThePurge() {
    // A request costs 150 prompt + 400 completion micro-USD here and reserves far more.
    String lifetime = key(new JsonObject().put("limit_micros", 200_000));
    String monthly = key(new JsonObject().put("limit_micros", 200_000)
        .put("limit_reset", "monthly"));
    String lifetimeId = keyId(lifetime);
    String monthlyId = keyId(monthly);
    assertThat(askNow(0, lifetime, false).statusCode()).isEqualTo(200);
    assertThat(askNow(1, monthly, false).statusCode()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(5)).until(() -> nodes.get(0).sql(
        "SELECT coalesce(sum(in_flight), 0) FROM key_leases").get(0).getLong(0) == 0);
    assertThat(nodes.get(0).sql("SELECT coalesce(sum(cost_micros), 0) FROM key_days"
        + " WHERE key_id = '" + lifetimeId + "'").get(0).getLong(0)).isEqualTo(550);
    // What each key spent 60 days ago, and what the monthly key spent last month.
    nodes.get(0).sql("INSERT INTO key_days (key_id, day, cost_micros) VALUES ('" + lifetimeId
        + "', (now() AT TIME ZONE 'UTC')::date - 60, 199000), ('" + monthlyId
        + "', (now() AT TIME ZONE 'UTC')::date - 60, 199000), ('" + monthlyId
        + "', date_trunc('month', now() AT TIME ZONE 'UTC')::date - 1, 199000)");
    Sync.await(nodes.get(0).flopex().retention().purge());
    assertThat(nodes.get(0).sql("SELECT count(*) FROM key_days WHERE key_id = '" + monthlyId
        + "' AND day < (now() AT TIME ZONE 'UTC')::date - 35").get(0).getLong(0)).isZero();

    HttpResponse<String> refused = askNow(1, lifetime, false);
    assertThat(refused.statusCode()).isEqualTo(402);
    assertThat(refused.headers().firstValue("retry-after")).as("a lifetime limit never resets")
        .isEmpty();
    assertThat(new JsonObject(refused.body()).getJsonObject("error").getString("code"))
        .isEqualTo("key_limit_exceeded");
    assertThat(askNow(0, monthly, false).statusCode()).isEqualTo(200);
  }

  @Test
  void aRequestRefusedByTheWalletLeavesNoCountBehind() {
    // Admitted by its key's limits, then never sent: its minute is given back.
    Gateway billed = Gateway.builder(vertxes.get(0))
        .provider("p", upstream.baseUrl())
        .model("m", "p")
        .database(database)
        .billing()
        .start();
    nodes.add(billed);
    JsonObject created = billed.adminPost("/admin/v1/accounts/" + billed.accountId() + "/keys",
        new JsonObject().put("name", "limited").put("rpm", 100));
    String key = created.getString("key");
    String id = created.getString("id");
    HttpResponse<String> refused = http.sendAsync(HttpRequest.newBuilder(URI.create(
                billed.url("/v1/chat/completions")))
            .header("authorization", "Bearer " + key).header("content-type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"m\",\"messages\":"
                + "[{\"role\":\"user\",\"content\":\"hi\"}]}")).build(),
        HttpResponse.BodyHandlers.ofString()).join();
    assertThat(refused.statusCode()).isEqualTo(402);
    assertThat(refused.headers().firstValue("x-ratelimit-remaining-requests")).hasValue("99");

    await().atMost(Duration.ofSeconds(5)).until(() -> billed.sql("SELECT coalesce(sum(started),"
        + " 0) FROM key_seconds WHERE key_id = '" + id + "'").get(0).getLong(0) == 0);
    assertThat(billed.sql("SELECT coalesce(sum(in_flight), 0) FROM key_leases WHERE key_id = '"
        + id + "'").get(0).getLong(0)).isZero();
    assertThat(upstream.calls()).isZero();
  }

  @Test
  void aBusyKeyIsAdmittedFromEachNodesShareWithoutACallPerRequest() {
    String key = key(new JsonObject().put("rpm", 100_000).put("tpm", 1_000_000_000L));
    int admitted = 0;
    for (int wave = 0; wave < 50; wave++) {
      List<CompletableFuture<HttpResponse<String>>> pending = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        pending.add(ask(i % 2, key, false, "m"));
      }
      for (CompletableFuture<HttpResponse<String>> r : pending) {
        assertThat(r.join().statusCode()).isEqualTo(200);
        admitted++;
      }
    }

    double calls = metric(0, "flopex_key_limit_calls_total") + metric(1,
        "flopex_key_limit_calls_total");
    double fromShares = metric(0, "flopex_key_limit_admissions_total{by=\"share\"}")
        + metric(1, "flopex_key_limit_admissions_total{by=\"share\"}");
    double decided = metric(0, "flopex_key_limit_admissions_total{by=\"database\"}")
        + metric(1, "flopex_key_limit_admissions_total{by=\"database\"}");
    assertThat(fromShares + decided).isEqualTo(admitted);
    assertThat(fromShares).as("admitted without a database call").isGreaterThan(admitted / 2.0);
    assertThat(calls).as("database calls for %d requests", admitted).isLessThan(admitted / 4.0);
    // Every ending is counted, and each node gives back what it was not asked for.
    await().atMost(Duration.ofSeconds(10)).until(() -> nodes.get(0).sql("SELECT coalesce(sum("
        + "finished), 0) FROM key_seconds").get(0).getLong(0) == 400);
    await().atMost(Duration.ofSeconds(10)).until(() -> nodes.get(0).sql("SELECT coalesce(sum("
        + "started), 0) FROM key_seconds").get(0).getLong(0) == 400);
    assertThat(nodes.get(0).sql("SELECT sum(tokens) FROM key_seconds").get(0).getLong(0))
        .isEqualTo(400L * 300);
  }

  @Test
  void sharesNeverLetTwoNodesPassALimitAndAreGivenBackWhenUnused() {
    String key = key(new JsonObject().put("rpm", 400));
    int admitted = 0;
    for (int wave = 0; wave < 30; wave++) {
      List<CompletableFuture<HttpResponse<String>>> pending = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        pending.add(ask(i % 2, key, false, "m"));
      }
      for (CompletableFuture<HttpResponse<String>> r : pending) {
        admitted += r.join().statusCode() == 200 ? 1 : 0;
      }
    }
    assertThat(admitted).isLessThanOrEqualTo(400);
    assertThat(metric(0, "flopex_key_limit_admissions_total{by=\"share\"}")
        + metric(1, "flopex_key_limit_admissions_total{by=\"share\"}"))
        .as("admitted from a share").isPositive();
    int sent = admitted;
    await().atMost(Duration.ofSeconds(10)).until(() -> nodes.get(0).sql("SELECT coalesce(sum("
        + "started), 0) FROM key_seconds").get(0).getLong(0) == sent);

    // What is left of the minute goes to one node, to the last request.
    while (askNow(0, key, false).statusCode() == 200) {
      admitted++;
    }
    assertThat(admitted).isEqualTo(400);
    assertThat(upstream.calls()).isEqualTo(400);
  }

  @Test
  void requestsBegunFromAShareKeepCountingOnOtherNodesAfterItExpires() {
    String key = key(new JsonObject().put("max_concurrent", 40));
    String id = keyId(key);
    // Node 0 gets busy enough to be given a share of the key's slots.
    for (int wave = 0; wave < 4; wave++) {
      List<CompletableFuture<HttpResponse<String>>> quick = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        quick.add(ask(0, key, false, "m"));
      }
      quick.forEach(r -> assertThat(r.join().statusCode()).isEqualTo(200));
    }
    int before = upstream.calls();
    hold = new CompletableFuture<>();
    List<CompletableFuture<HttpResponse<String>>> running = new ArrayList<>();
    try {
      for (int i = 0; i < 8; i++) {
        running.add(ask(0, key, false, "m"));
      }
      await().atMost(Duration.ofSeconds(5)).until(() -> upstream.calls() == before + 8);
      assertThat(metric(0, "flopex_key_limit_admissions_total{by=\"share\"}"))
          .as("admitted from node 0's share").isPositive();
      // Whatever node 0 holds has outlived the second its share was granted for.
      await().atMost(Duration.ofSeconds(5)).until(() -> nodes.get(0).sql("SELECT count(*) FROM"
          + " key_leases WHERE key_id = '" + id + "' AND spare_until > now()").get(0)
          .getLong(0) == 0);

      for (int i = 0; i < 40; i++) {
        running.add(ask(1, key, false, "m"));
      }
      await().atMost(Duration.ofSeconds(5)).until(() -> running.subList(8, 48).stream()
          .filter(CompletableFuture::isDone).count() + upstream.calls() - before - 8 == 40);
      assertThat(upstream.calls() - before).as("requests running at once").isLessThanOrEqualTo(40);
    } finally {
      hold.complete(null);
      hold = null;
    }
    running.forEach(CompletableFuture::join);
  }

  @Test
  void aReportSentAgainAfterALostAnswerCountsOnce() {
    String id = keyId(key(new JsonObject().put("tpm", 100_000)));
    String call = "SELECT refusals FROM flopex_lease('" + id + "',"
        + " '00000000-0000-0000-0000-0000000000b1', 120, 1000, 8,"
        + " '00000000-0000-0000-0000-0000000000c1', 2, 600,"
        + " ARRAY[(now() AT TIME ZONE 'UTC')::date], ARRAY[50::bigint], '{}', '{}', 0, 0, 0,"
        + " '{}', '{}', '{}', 0, 0, 0, 0)";
    nodes.get(0).sql(call);
    nodes.get(0).sql(call);

    io.vertx.sqlclient.Row seconds = nodes.get(0).sql("SELECT sum(finished)::bigint,"
        + " sum(tokens)::bigint FROM key_seconds WHERE key_id = '" + id + "'").get(0);
    assertThat(List.of(seconds.getLong(0), seconds.getLong(1))).containsExactly(2L, 600L);
    assertThat(nodes.get(0).sql("SELECT sum(cost_micros)::bigint FROM key_days WHERE key_id = '"
        + id + "'").get(0).getLong(0)).isEqualTo(50);
  }

  private double metric(int node, String series) {
    String body = http.sendAsync(HttpRequest.newBuilder(URI.create(nodes.get(node)
        .url("/metrics"))).GET().build(), HttpResponse.BodyHandlers.ofString()).join().body();
    return body.lines().filter(line -> line.startsWith(series + " "))
        .mapToDouble(line -> Double.parseDouble(line.substring(series.length() + 1)))
        .findFirst().orElse(0);
  }

  private String keyId(String key) {
    return keyIds.get(key);
  }

  @Test
  void expiredKeysAndModelsOutsideTheKeysListAreRefused() {
    String onlyOther = key(new JsonObject().put("allowed_models", new JsonArray().add("other")));
    HttpResponse<String> forbidden = ask(0, onlyOther, false, "m").join();
    assertThat(forbidden.statusCode()).isEqualTo(403);
    assertThat(new JsonObject(forbidden.body()).getJsonObject("error").getString("param"))
        .isEqualTo("model");
    assertThat(ask(0, onlyOther, false, "other").join().statusCode()).isEqualTo(200);

    String expiring = key(new JsonObject().put("expires_at",
        java.time.OffsetDateTime.now().plusSeconds(2).toString()));
    assertThat(askNow(0, expiring, false).statusCode()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(10)).until(() -> askNow(1, expiring, false).statusCode()
        == 401);
  }

  @Test
  void concurrentRequestsCannotTogetherPassTheTokensAMinute() {
    String key = key(new JsonObject().put("tpm", 100));
    slow.set(true);
    List<CompletableFuture<HttpResponse<String>>> pending = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      pending.add(http.sendAsync(HttpRequest.newBuilder(URI.create(nodes.get(i % 2)
              .url("/v1/chat/completions")))
          .header("authorization", "Bearer " + key).header("content-type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"m\",\"max_tokens\":50,"
              + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")).build(),
          HttpResponse.BodyHandlers.ofString()));
    }
    List<HttpResponse<String>> responses = pending.stream().map(CompletableFuture::join).toList();

    // The first of a quiet minute goes through; what it may use leaves no room for another.
    assertThat(responses.stream().filter(r -> r.statusCode() == 200).count()).isEqualTo(1);
    assertThat(upstream.calls()).isEqualTo(1);
  }
}
