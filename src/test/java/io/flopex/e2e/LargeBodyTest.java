package io.flopex.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.RawHttp;
import io.flopex.testing.RawHttp.Response;
import io.flopex.testing.Sync;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Bodies up to the configured limit pass; anything bigger, longer than announced or slower than
 * the body timeout is answered with an error in OpenAI's format without the gateway waiting for
 * the rest. Oversized and lying uploads go over raw sockets, written on a thread of their own so
 * that the answer can arrive while the client is still sending.
 */
class LargeBodyTest {

  private static final int LIMIT = 2 * 1024 * 1024;
  private static final long BODY_TIMEOUT_MS = 2000;
  private static final long HUGE = 200L * 1024 * 1024;
  private static final String PREFIX =
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"";
  private static final String SUFFIX = "\"}]}";

  private static Vertx vertx;
  private static FakeUpstream fake;
  private static Gateway gateway;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    fake = FakeUpstream.start(vertx);
    gateway = Gateway.builder(vertx).provider("a", fake.baseUrl()).model("m", "a")
        .server("maxBodyBytes", LIMIT)
        .server("bodyTimeoutMs", BODY_TIMEOUT_MS)
        .start();
  }

  @AfterAll
  static void stop() {
    gateway.close();
    fake.close();
    Sync.await(vertx.close());
  }

  @Test
  void b36_validBodyOfOneAndAHalfMegabytesIsServed() {
    String body = chatBody(1_500_000);

    HttpResponse<String> response = gateway.post("/v1/chat/completions", body);

    assertThat(response.statusCode()).isEqualTo(200);
    String forwarded = fake.lastRequest().body().getJsonArray("messages").getJsonObject(0)
        .getString("content");
    assertThat(forwarded).hasSize(1_500_000 - PREFIX.length() - SUFFIX.length());
  }

  @Test
  void b36_bodyExactlyAtTheLimitIsServed() {
    HttpResponse<String> response = gateway.post("/v1/chat/completions", chatBody(LIMIT));

    assertThat(response.statusCode()).isEqualTo(200);
  }

  @Test
  void b36_bodyOneByteOverTheLimitGets413() {
    int callsBefore = fake.calls();
    byte[] body = chatBody(LIMIT + 1).getBytes(StandardCharsets.UTF_8);
    try (RawHttp http = RawHttp.connect(gateway.port())) {
      http.write(chatHead("content-length", String.valueOf(body.length)));
      http.writeInBackground(Arrays.asList(body).iterator());

      Response response = http.readResponse("POST");

      assertThat(response.status()).isEqualTo(413);
      assertOpenAiError(response);
    }
    assertThat(fake.calls()).isEqualTo(callsBefore);
  }

  @Test
  void b36_chunkedBodyOfTwoHundredMegabytesGets413BeforeItIsAllSent() {
    int callsBefore = fake.calls();
    try (RawHttp http = RawHttp.connect(gateway.port())) {
      http.write(chatHead("transfer-encoding", "chunked"));
      http.writeInBackground(chunked(HUGE, 64 * 1024));

      Response response = http.readResponse("POST");
      long writtenWhenAnswered = http.bytesWritten();

      assertThat(response.status()).isEqualTo(413);
      assertOpenAiError(response);
      assertThat(writtenWhenAnswered).isLessThan(HUGE / 4);
    }
    assertThat(fake.calls()).isEqualTo(callsBefore);
  }

  @Test
  void b36_gatewayStopsReadingAChunkedBodyOverTheLimit() {
    try (RawHttp http = RawHttp.connect(gateway.port())) {
      http.write(chatHead("transfer-encoding", "chunked"));
      CompletableFuture<Void> upload = http.writeInBackground(chunked(HUGE, 64 * 1024));
      assertThat(http.readResponse("POST").status()).isEqualTo(413);

      // Once it has answered, the gateway must hang up rather than read the rest to discard it.
      await().atMost(Duration.ofSeconds(30)).until(upload::isDone);

      assertThat(upload).as("upload cut off by the gateway").isCompletedExceptionally();
      assertThat(http.bytesWritten()).isLessThan(HUGE / 4);
    }
  }

  @Test
  void b36_bodyLongerThanItsContentLengthGets400AndTheConnectionEnds() {
    int callsBefore = fake.calls();
    byte[] body = chatBody(5 * 1024 * 1024).getBytes(StandardCharsets.UTF_8);
    try (RawHttp http = RawHttp.connect(gateway.port())) {
      http.write(chatHead("content-length", "1024"));
      http.writeInBackground(Arrays.asList(body).iterator());

      Response response = http.readResponse("POST");

      assertThat(response.status()).isEqualTo(400);
      assertOpenAiError(response);
      assertThat(http.closedByPeer()).as("connection closed by the gateway").isTrue();
    }
    assertThat(fake.calls()).isEqualTo(callsBefore);
  }

  @Test
  void b36_uploadAtOneBytePerSecondGets408() {
    int callsBefore = fake.calls();
    try (RawHttp http = RawHttp.connect(gateway.port());
        Trickle trickle = Trickle.start(http, chatBody(256))) {
      long startNanos = System.nanoTime();

      Response response = http.readResponse("POST");

      long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
      assertThat(response.status()).isEqualTo(408);
      assertOpenAiError(response);
      assertThat(elapsedMs).isLessThan(BODY_TIMEOUT_MS * 4);
      assertThat(trickle.finished()).isFalse();
    }
    assertThat(fake.calls()).isEqualTo(callsBefore);
  }

  @Test
  void b36_uploadTooSlowIsDisconnectedAfterThe408() {
    try (RawHttp http = RawHttp.connect(gateway.port());
        Trickle trickle = Trickle.start(http, chatBody(256))) {
      assertThat(http.readResponse("POST").status()).isEqualTo(408);

      // Otherwise a client that keeps trickling holds the connection and its buffer for good.
      assertThat(http.closedByPeer()).as("connection closed by the gateway").isTrue();
      assertThat(trickle.finished()).isFalse();
    }
  }

  private static void assertOpenAiError(Response response) {
    assertThat(response.header("content-type")).startsWith("application/json");
    JsonObject error = response.json().getJsonObject("error");
    assertThat(error.fieldNames()).containsExactlyInAnyOrder("message", "type", "param", "code");
    assertThat(error.getString("type")).isEqualTo("invalid_request_error");
    assertThat(error.getString("message")).isNotBlank();
  }

  private static String chatHead(String... headers) {
    String[] all = Arrays.copyOf(new String[] {
        "authorization", "Bearer " + gateway.key(), "content-type", "application/json"},
        4 + headers.length);
    System.arraycopy(headers, 0, all, 4, headers.length);
    return RawHttp.head("POST", "/v1/chat/completions", all);
  }

  /** A valid chat request of exactly {@code size} bytes: one long user message. */
  private static String chatBody(int size) {
    return PREFIX + "x".repeat(size - PREFIX.length() - SUFFIX.length()) + SUFFIX;
  }

  /** A chunked body of {@code total} bytes, made as it is sent rather than held in memory. */
  private static Iterator<byte[]> chunked(long total, int chunkSize) {
    byte[] frame = (Integer.toHexString(chunkSize) + "\r\n" + "x".repeat(chunkSize) + "\r\n")
        .getBytes(StandardCharsets.US_ASCII);
    return new Iterator<>() {
      private long sent;
      private boolean ended;

      @Override
      public boolean hasNext() {
        return !ended;
      }

      @Override
      public byte[] next() {
        if (ended) {
          throw new NoSuchElementException();
        }
        if (sent >= total) {
          ended = true;
          return "0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        }
        sent += chunkSize;
        return frame;
      }
    };
  }

  /** A client that sends its request body one byte a second, as the headers announce it. */
  private static final class Trickle implements AutoCloseable {

    private final ScheduledExecutorService clock = Executors.newSingleThreadScheduledExecutor();
    private final AtomicInteger sent = new AtomicInteger();
    private final byte[] body;

    private Trickle(byte[] body) {
      this.body = body;
    }

    static Trickle start(RawHttp http, String body) {
      Trickle trickle = new Trickle(body.getBytes(StandardCharsets.UTF_8));
      http.write(chatHead("content-length", String.valueOf(trickle.body.length)));
      // Pacing the writes is the behaviour under test; a failed write (the gateway hung up)
      // ends the schedule.
      trickle.clock.scheduleAtFixedRate(() -> {
        int i = trickle.sent.get();
        if (i < trickle.body.length) {
          http.write(new byte[] {trickle.body[i]});
          trickle.sent.incrementAndGet();
        }
      }, 0, 1, TimeUnit.SECONDS);
      return trickle;
    }

    boolean finished() {
      return sent.get() == body.length;
    }

    @Override
    public void close() {
      clock.shutdownNow();
    }
  }
}
