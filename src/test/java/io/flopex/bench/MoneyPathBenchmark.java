package io.flopex.bench;

import io.flopex.testing.Chunks;
import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.Sync;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * What the wallet and a key's limits add to a request: the same requests, one at a time, with a
 * plain key and billing off, then with billing on and a key with every limit, against an
 * upstream that answers at once. Both paths use the same PostgreSQL.
 *
 * <p>Run with {@code mvn test -Dflopex.benchmarks=none -Dtest=MoneyPathBenchmark}; results go to
 * stdout and {@code target/money-path.txt}.
 */
@Tag("benchmark")
class MoneyPathBenchmark {

  private static final int WARMUP = 300;
  private static final int REQUESTS = 1000;

  @Test
  void overhead() throws Exception {
    Vertx vertx = Vertx.vertx();
    FakeUpstream upstream = FakeUpstream.start(vertx);
    upstream.always(FakeUpstream.json(200, FakeUpstream.fixture("openai/openai-text.json")));
    StringBuilder report = new StringBuilder("Requests one at a time, " + REQUESTS
        + " measured after " + WARMUP + " (" + Runtime.getRuntime().availableProcessors()
        + " cores)\n");
    try {
      report.append("  billing off, plain key:            ")
          .append(run(Gateway.builder(vertx).provider("p", upstream.baseUrl()).model("m", "p"),
              false)).append('\n');
      report.append("  billing on, key with every limit:  ")
          .append(run(Gateway.builder(vertx).provider("p", upstream.baseUrl()).model("m", "p")
              .billing(), true)).append('\n');
    } finally {
      upstream.close();
      Sync.await(vertx.close());
    }
    System.out.print(report);
    Files.writeString(Path.of("target", "money-path.txt"), report, StandardCharsets.UTF_8);
  }

  private static String run(Gateway.Builder builder, boolean limited) throws Exception {
    try (Gateway gateway = builder.start()) {
      String key = gateway.key();
      if (limited) {
        gateway.adminPost("/admin/v1/accounts/" + gateway.accountId() + "/credits",
            new JsonObject().put("amount_micros", 1_000_000_000L).put("reason", "bench"));
        key = gateway.adminPost("/admin/v1/accounts/" + gateway.accountId() + "/keys",
            new JsonObject().put("name", "limited").put("rpm", 1_000_000)
                .put("tpm", 1_000_000_000L).put("max_concurrent", 100)
                .put("limit_micros", 1_000_000_000L).put("limit_reset", "monthly"))
            .getString("key");
      }
      HttpClient http = HttpClient.newHttpClient();
      HttpRequest request = HttpRequest.newBuilder(URI.create(gateway.url("/v1/chat/completions")))
          .header("authorization", "Bearer " + key).header("content-type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(Chunks.request(false, ""))).build();
      long[] nanos = new long[REQUESTS];
      for (int i = 0; i < WARMUP + REQUESTS; i++) {
        long start = System.nanoTime();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        long took = System.nanoTime() - start;
        if (response.statusCode() != 200) {
          throw new IllegalStateException("request " + i + " got " + response.statusCode());
        }
        if (i >= WARMUP) {
          nanos[i - WARMUP] = took;
        }
      }
      Arrays.sort(nanos);
      return String.format("p50 %.2f ms, p90 %.2f ms, p99 %.2f ms", nanos[REQUESTS / 2] / 1e6,
          nanos[REQUESTS * 9 / 10] / 1e6, nanos[REQUESTS * 99 / 100] / 1e6);
    }
  }
}
