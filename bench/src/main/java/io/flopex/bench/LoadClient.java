package io.flopex.bench;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.net.URI;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * The benchmark's load client, with Vert.x's HTTP client and HdrHistogram. Prints one line of
 * JSON with its results.
 *
 * <pre>
 * serial URL REQUESTS              one request at a time (added latency)
 * rate   URL RATE SECONDS CONNS    open loop at a fixed rate; latency counted from each
 *                                  request's intended start, so a stall is not hidden; the
 *                                  first fifth warms up and is not counted
 * stream URL STREAMS [ROUNDS]      STREAMS concurrent streams: time to first event, gaps between
 *                                  events, events lost, and whether each ended with usage;
 *                                  with several rounds, the first warms up and is not counted
 * </pre>
 *
 * Options as system properties: {@code -Dkey=...} (a bearer token), {@code -Dheaders=a:b,c:d}
 * (extra headers), {@code -Dmodel=...} (the model in the body, default {@code m}).
 */
public final class LoadClient {

  private static final String KEY = System.getProperty("key");
  private static final String MODEL = System.getProperty("model", "m");

  public static void main(String[] args) throws Exception {
    String mode = args[0];
    URI uri = URI.create(args[1]);
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    try {
      String result = switch (mode) {
        case "serial" -> serial(vertx, uri, Integer.parseInt(args[2]));
        case "rate" -> rate(vertx, uri, Integer.parseInt(args[2]), Integer.parseInt(args[3]),
            Integer.parseInt(args[4]));
        case "stream" -> stream(vertx, uri, Integer.parseInt(args[2]),
            args.length > 3 ? Integer.parseInt(args[3]) : 1);
        default -> throw new IllegalArgumentException("mode: serial, rate or stream");
      };
      System.out.println(result);
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  private static HttpClientAgent client(Vertx vertx, int connections) {
    return vertx.httpClientBuilder()
        .with(new HttpClientOptions().setTcpNoDelay(true).setKeepAlive(true)
            .setIdleTimeout(0))
        .with(new PoolOptions().setHttp1MaxSize(connections))
        .build();
  }

  private static RequestOptions request(URI uri) {
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST)
        .setHost(uri.getHost()).setPort(uri.getPort()).setURI(uri.getRawPath())
        .setIdleTimeout(60_000);
    MultiMap headers = MultiMap.caseInsensitiveMultiMap()
        .add("content-type", "application/json");
    if (KEY != null && !KEY.isEmpty()) {
      headers.add("authorization", "Bearer " + KEY);
    }
    String extra = System.getProperty("headers", "");
    for (String pair : extra.split(",")) {
      int colon = pair.indexOf(':');
      if (colon > 0) {
        headers.add(pair.substring(0, colon).trim(), pair.substring(colon + 1).trim());
      }
    }
    return options.setHeaders(headers);
  }

  private static Buffer body(boolean stream) {
    return Buffer.buffer("{\"model\":\"" + MODEL + "\",\"max_tokens\":100,\"stream\":" + stream
        + (stream ? ",\"stream_options\":{\"include_usage\":true}" : "")
        + ",\"messages\":[{\"role\":\"user\",\"content\":\"Say hello.\"}]}");
  }

  /** One exchange; the future fails on a status other than 200. */
  private static Future<Buffer> call(HttpClientAgent client, RequestOptions options,
      Buffer body) {
    return client.request(options).compose(req -> req.send(body)).compose(resp -> {
      if (resp.statusCode() != 200) {
        return resp.body().compose(b -> Future.failedFuture("status " + resp.statusCode()
            + ": " + b.toString().substring(0, Math.min(200, b.length()))));
      }
      return resp.body();
    });
  }

  private static String serial(Vertx vertx, URI uri, int requests) throws Exception {
    HttpClientAgent client = client(vertx, 1);
    RequestOptions options = request(uri);
    Buffer body = body(false);
    Histogram latency = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
    // A tenth of the requests, and at least 2,000, warm the JVMs up first.
    int warmup = Math.max(2_000, requests / 10);
    AtomicLong errors = new AtomicLong();
    Promise<Void> finished = Promise.promise();
    // Each request is sent from the client's event loop when the previous one ends.
    vertx.runOnContext(v -> next(client, options, body, latency, errors, 0, warmup,
        warmup + requests, finished));
    finished.future().await(3600, TimeUnit.SECONDS);
    return "{\"mode\":\"serial\",\"requests\":" + requests + ",\"errors\":" + errors.get()
        + "," + percentiles(latency) + "}";
  }

  private static void next(HttpClientAgent client, RequestOptions options, Buffer body,
      Histogram latency, AtomicLong errors, int i, int warmup, int total, Promise<Void> done) {
    if (i == total) {
      done.complete();
      return;
    }
    long start = System.nanoTime();
    call(client, options, body).onComplete(ar -> {
      if (ar.failed() && errors.incrementAndGet() == 1) {
        System.err.println("first error: " + ar.cause());
      }
      if (i >= warmup) {
        latency.recordValue(System.nanoTime() - start);
      }
      next(client, options, body, latency, errors, i + 1, warmup, total, done);
    });
  }

  private static String rate(Vertx vertx, URI uri, int rate, int seconds, int connections)
      throws Exception {
    HttpClientAgent client = client(vertx, connections);
    RequestOptions options = request(uri);
    Buffer body = body(false);
    Histogram latency = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
    AtomicLong done = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    long total = (long) rate * seconds;
    long intervalNanos = TimeUnit.SECONDS.toNanos(1) / rate;
    Promise<Void> finished = Promise.promise();
    long begin = System.nanoTime();
    long[] next = {0};
    io.vertx.core.Context[] context = new io.vertx.core.Context[1];
    // Every millisecond, send what is due: requests keep their intended start times.
    vertx.setPeriodic(1, id -> {
      context[0] = vertx.getOrCreateContext();
      long now = System.nanoTime();
      while (next[0] < total && begin + next[0] * intervalNanos <= now) {
        long intended = begin + next[0] * intervalNanos;
        next[0]++;
        boolean counted = next[0] > total / 5;
        call(client, options, body).onComplete(ar -> {
          if (counted) {
            // The first fifth of the run opens connections and warms up; it is not counted.
            latency.recordValue(Math.min(System.nanoTime() - intended,
                latency.getHighestTrackableValue()));
          }
          if (ar.failed()) {
            if (errors.incrementAndGet() == 1) {
              System.err.println("first error: " + ar.cause().getMessage());
            }
          }
          if (done.incrementAndGet() == total) {
            finished.tryComplete();
          }
        });
      }
      if (next[0] == total) {
        vertx.cancelTimer(id);
      }
    });
    try {
      // A target that cannot keep up is given half the run's length again, then cut off.
      finished.future().await(seconds + Math.max(10, seconds / 2), TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException cutOff) {
      // reported below as unfinished
    }
    double elapsed = (System.nanoTime() - begin) / 1e9;
    long completed = done.get();
    // The histogram is written on the timer's event loop: read it there too.
    Promise<String> read = Promise.promise();
    context[0].runOnContext(v -> read.complete(percentiles(latency)));
    String measured = read.future().await(10, TimeUnit.SECONDS);
    return String.format(Locale.ROOT, "{\"mode\":\"rate\",\"target_rps\":%d,\"requests\":%d,"
        + "\"errors\":%d,\"unfinished\":%d,\"achieved_rps\":%.1f,%s}", rate, total,
        errors.get(), total - completed, completed / elapsed, measured);
  }

  private static String stream(Vertx vertx, URI uri, int streams, int rounds) throws Exception {
    HttpClientAgent client = client(vertx, streams);
    RequestOptions options = request(uri);
    Buffer body = body(true);
    Histogram firstEvent = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
    Histogram gaps = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
    AtomicLong events = new AtomicLong();
    AtomicLong incomplete = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    for (int round = 0; round < rounds; round++) {
      Promise<Void> roundDone = Promise.promise();
      vertx.runOnContext(v -> {
        Future<?>[] all = new Future<?>[streams];
        for (int s = 0; s < streams; s++) {
          all[s] = oneStream(client, options, body, firstEvent, gaps, events, incomplete,
              errors);
        }
        Future.join(java.util.List.of(all)).<Void>mapEmpty().onComplete(roundDone);
      });
      roundDone.future().await(600, TimeUnit.SECONDS);
      if (round == 0 && rounds > 1) {
        // The first round opens the connections and warms the JVMs up; it is not counted.
        firstEvent.reset();
        gaps.reset();
        events.set(0);
        incomplete.set(0);
        errors.set(0);
      }
    }
    int counted = rounds > 1 ? rounds - 1 : 1;
    long expected = (long) streams * counted * MockUpstream.STREAM_CHUNKS;
    return String.format(Locale.ROOT, "{\"mode\":\"stream\",\"streams\":%d,\"rounds\":%d,"
        + "\"content_events\":%d,\"expected_content_events\":%d,\"incomplete\":%d,"
        + "\"errors\":%d,\"first_event\":{%s},\"gap\":{%s}}", streams, counted, events.get(),
        expected, incomplete.get(), errors.get(), percentiles(firstEvent),
        percentiles(gaps));
  }

  /** Counts the content events of one stream and whether it ended with usage and [DONE]. */
  private static Future<Void> oneStream(HttpClientAgent client, RequestOptions options,
      Buffer body, Histogram firstEvent, Histogram gaps, AtomicLong events,
      AtomicLong incomplete, AtomicLong errors) {
    long start = System.nanoTime();
    return client.request(options).compose(req -> req.send(body)).compose(resp -> {
      if (resp.statusCode() != 200) {
        errors.incrementAndGet();
        return resp.body().mapEmpty();
      }
      long[] last = {0};
      int[] content = {0};
      boolean[] usage = {false};
      boolean[] doneSeen = {false};
      StringBuilder pending = new StringBuilder();
      resp.handler(chunk -> {
        long now = System.nanoTime();
        pending.append(chunk.toString());
        int end;
        while ((end = pending.indexOf("\n\n")) >= 0) {
          String event = pending.substring(0, end);
          pending.delete(0, end + 2);
          if (event.contains("\"content\":\"token")) {
            content[0]++;
            synchronized (firstEvent) {
              if (last[0] == 0) {
                firstEvent.recordValue(now - start);
              } else {
                gaps.recordValue(now - last[0]);
              }
            }
            last[0] = now;
          } else if (event.contains("\"usage\":{") && !event.contains("\"usage\":null")) {
            usage[0] = true;
          } else if (event.contains("[DONE]")) {
            doneSeen[0] = true;
          }
        }
      });
      return resp.end().onComplete(v -> {
        events.addAndGet(content[0]);
        if (content[0] != MockUpstream.STREAM_CHUNKS || !usage[0] || !doneSeen[0]) {
          incomplete.incrementAndGet();
        }
      });
    }).<Void>mapEmpty().otherwise(err -> {
      errors.incrementAndGet();
      return null;
    });
  }

  private static String percentiles(Histogram h) {
    return String.format(Locale.ROOT, "\"count\":%d,\"p50_us\":%.1f,\"p90_us\":%.1f,"
        + "\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f,\"mean_us\":%.1f",
        h.getTotalCount(), h.getValueAtPercentile(50) / 1e3, h.getValueAtPercentile(90) / 1e3,
        h.getValueAtPercentile(99) / 1e3, h.getValueAtPercentile(99.9) / 1e3,
        h.getMaxValue() / 1e3, h.getMean() / 1e3);
  }
}
