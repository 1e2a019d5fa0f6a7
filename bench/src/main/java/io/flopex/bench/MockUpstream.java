package io.flopex.bench;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An OpenAI-format upstream for the benchmark, answering {@code POST .../chat/completions} by
 * the first segment of its path:
 *
 * <ul>
 *   <li>{@code /instant/v1/chat/completions}: a chat completion at once;
 *   <li>{@code /slow/v1/chat/completions}: the same after 20 ms;
 *   <li>{@code /stream/v1/chat/completions}: 64 content chunks 20 ms apart, a finish chunk, a
 *       usage chunk and {@code [DONE]}.
 * </ul>
 *
 * {@code GET /count} answers how many chat requests it served, {@code POST /count/reset} starts
 * again from zero. The answers are fixed buffers, so the mock does no JSON work per request.
 *
 * <p>{@code java -cp ... io.flopex.bench.MockUpstream PORT [EVENT_LOOPS]}
 */
public final class MockUpstream {

  static final int STREAM_CHUNKS = 64;
  static final long STREAM_GAP_MS = 20;

  private static final Buffer COMPLETION = Buffer.buffer("{\"id\":\"chatcmpl-bench\","
      + "\"object\":\"chat.completion\",\"created\":1770000000,\"model\":\"bench-model\","
      + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
      + "\"Hello from the benchmark's upstream.\"},\"finish_reason\":\"stop\"}],"
      + "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":8,\"total_tokens\":20}}");
  private static final Buffer CHUNK = Buffer.buffer("data: {\"id\":\"chatcmpl-bench\","
      + "\"object\":\"chat.completion.chunk\",\"created\":1770000000,\"model\":\"bench-model\","
      + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"token \"},\"finish_reason\":null}]}"
      + "\n\n");
  private static final Buffer FINISH = Buffer.buffer("data: {\"id\":\"chatcmpl-bench\","
      + "\"object\":\"chat.completion.chunk\",\"created\":1770000000,\"model\":\"bench-model\","
      + "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
      + "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\","
      + "\"created\":1770000000,\"model\":\"bench-model\",\"choices\":[],\"usage\":"
      + "{\"prompt_tokens\":12,\"completion_tokens\":64,\"total_tokens\":76}}\n\n"
      + "data: [DONE]\n\n");

  private final AtomicLong served = new AtomicLong();

  public static void main(String[] args) {
    int port = Integer.parseInt(args[0]);
    int loops = args.length > 1 ? Integer.parseInt(args[1]) : 1;
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(loops));
    MockUpstream mock = new MockUpstream();
    for (int i = 0; i < loops; i++) {
      vertx.createHttpServer(new HttpServerOptions().setPort(port).setHost("127.0.0.1")
              .setTcpNoDelay(true))
          .requestHandler(mock::handle)
          .listen()
          .onFailure(err -> {
            System.err.println("mock: cannot listen on " + port + ": " + err.getMessage());
            System.exit(1);
          });
    }
    System.out.println("mock upstream on 127.0.0.1:" + port);
  }

  private void handle(HttpServerRequest request) {
    String path = request.path();
    HttpServerResponse response = request.response();
    if (path.equals("/count")) {
      response.end(Long.toString(request.method().name().equals("POST")
          ? served.getAndSet(0) : served.get()));
      return;
    }
    if (!path.endsWith("/chat/completions")) {
      response.setStatusCode(404).end();
      return;
    }
    // Read the whole body before answering, as a real provider does.
    request.end().onSuccess(v -> {
      served.incrementAndGet();
      if (path.startsWith("/instant/")) {
        json(response);
      } else if (path.startsWith("/slow/")) {
        Vertx.currentContext().owner().setTimer(20, id -> json(response));
      } else if (path.startsWith("/stream/")) {
        stream(response);
      } else {
        response.setStatusCode(404).end();
      }
    });
  }

  private static void json(HttpServerResponse response) {
    response.putHeader("content-type", "application/json").end(COMPLETION);
  }

  private static void stream(HttpServerResponse response) {
    response.setChunked(true).putHeader("content-type", "text/event-stream")
        .putHeader("cache-control", "no-cache");
    response.write(CHUNK);
    Vertx vertx = Vertx.currentContext().owner();
    int[] sent = {1};
    vertx.setPeriodic(STREAM_GAP_MS, id -> {
      if (response.closed()) {
        vertx.cancelTimer(id);
      } else if (sent[0] < STREAM_CHUNKS) {
        response.write(CHUNK);
        sent[0]++;
      } else {
        vertx.cancelTimer(id);
        response.end(FINISH);
      }
    });
  }
}
