package io.flopex.testing;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A provider upstream on loopback. It replays the recorded real responses in {@code
 * ../shared/fixtures/recorded} with real SSE framing, and can be told to fail, stall, throttle or
 * cut a stream. It counts its calls and records each request and when its connection closed.
 */
public final class FakeUpstream {

  /** Where the recorded provider responses live, relative to the project root. */
  public static final Path FIXTURES = Path.of("..", "shared", "fixtures", "recorded");

  /** One scripted way to answer a request. */
  @FunctionalInterface
  public interface Behavior {
    void answer(HttpServerRequest request, HttpServerResponse response, Vertx vertx);
  }

  /** What the fake saw of one request. */
  /** A request as the upstream received it; {@code uri} is the path with its query string. */
  public record Received(String path, String uri, MultiMap headers, JsonObject body,
      long receivedAtNanos) {}

  private final Vertx vertx;
  private final Deque<Behavior> script = new ArrayDeque<>();
  private final List<Received> received = new CopyOnWriteArrayList<>();
  private final List<Long> closedAtNanos = new CopyOnWriteArrayList<>();
  private final AtomicInteger calls = new AtomicInteger();
  private final java.util.Map<HttpServerRequest, JsonObject> bodies =
      new java.util.concurrent.ConcurrentHashMap<>();
  private Behavior fallback = json(200, fixture("openai/openai-text.json"));
  private HttpServer server;

  private FakeUpstream(Vertx vertx) {
    this.vertx = vertx;
  }

  public static FakeUpstream start(Vertx vertx) {
    FakeUpstream fake = new FakeUpstream(vertx);
    fake.server = Sync.await(vertx.createHttpServer()
        .requestHandler(fake::handle)
        .listen(0, "127.0.0.1"));
    return fake;
  }

  private void handle(HttpServerRequest request) {
    request.connection().closeHandler(v -> {
      closedAtNanos.add(System.nanoTime());
      bodies.remove(request);
    });
    request.body().onSuccess(body -> {
      JsonObject json;
      try {
        json = body.length() == 0 ? new JsonObject() : body.toJsonObject();
      } catch (RuntimeException e) {
        json = new JsonObject().put("unparseable", true);
      }
      received.add(new Received(request.path(), request.uri(), request.headers(), json,
          System.nanoTime()));
      bodies.put(request, json);
      request.response().endHandler(v -> bodies.remove(request));
      calls.incrementAndGet();
      Behavior next;
      synchronized (script) {
        next = script.isEmpty() ? fallback : script.poll();
      }
      next.answer(request, request.response(), vertx);
    });
  }

  /** Answers the next requests in order with these behaviours, then with the fallback. */
  public FakeUpstream then(Behavior... behaviors) {
    synchronized (script) {
      Collections.addAll(script, behaviors);
    }
    return this;
  }

  /** The JSON body of a request being answered, for behaviours that depend on it. */
  public JsonObject bodyOf(HttpServerRequest request) {
    return bodies.getOrDefault(request, new JsonObject());
  }

  /** Answers every request not otherwise scripted with this behaviour. */
  public FakeUpstream always(Behavior behavior) {
    this.fallback = behavior;
    return this;
  }

  /** The base URL of an OpenAI-format provider, API version included. */
  public String baseUrl() {
    return rootUrl() + "/v1";
  }

  /** The base URL of a provider whose paths carry their own version, such as Anthropic. */
  public String rootUrl() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  public int calls() {
    return calls.get();
  }

  public List<Received> received() {
    return new ArrayList<>(received);
  }

  public Received lastRequest() {
    return received.get(received.size() - 1);
  }

  public List<Long> closedAtNanos() {
    return new ArrayList<>(closedAtNanos);
  }

  public void close() {
    Sync.await(server.close());
  }

  // ---- behaviours ----

  public static String fixture(String name) {
    try {
      return Files.readString(FIXTURES.resolve(name), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The events of a recorded stream, one payload per line. */
  public static List<String> fixtureEvents(String name) {
    List<String> events = new ArrayList<>();
    for (String line : fixture(name).split("\n")) {
      if (!line.isBlank()) {
        events.add(line);
      }
    }
    return events;
  }

  public static Behavior json(int status, String body, String... headers) {
    return (req, resp, vertx) -> {
      for (int i = 0; i + 1 < headers.length; i += 2) {
        resp.putHeader(headers[i], headers[i + 1]);
      }
      resp.setStatusCode(status).putHeader("content-type", "application/json").end(body);
    };
  }

  /** A recorded OpenAI-format stream, framed as the provider sends it, ending in [DONE]. */
  public static Behavior sse(List<String> events) {
    return sse(events, 0, true);
  }

  /**
   * Streams the events with {@code gapMs} between them; {@code done} adds the closing {@code
   * data: [DONE]}.
   */
  public static Behavior sse(List<String> events, long gapMs, boolean done) {
    List<String> frames = new ArrayList<>();
    for (String e : events) {
      frames.add("data: " + e + "\n\n");
    }
    if (done) {
      frames.add("data: [DONE]\n\n");
    }
    return writes(frames, gapMs, true);
  }

  /** Writes the pieces as separate chunks, {@code gapMs} apart; {@code end} finishes cleanly. */
  public static Behavior writes(List<String> pieces, long gapMs, boolean end) {
    List<Buffer> buffers = new ArrayList<>();
    for (String p : pieces) {
      buffers.add(Buffer.buffer(p));
    }
    return rawWrites(buffers, gapMs, end);
  }

  /** Like {@link #writes} with byte-exact pieces, for splits inside a multi-byte character. */
  public static Behavior rawWrites(List<Buffer> pieces, long gapMs, boolean end) {
    return (req, resp, vertx) -> {
      resp.setStatusCode(200).setChunked(true).putHeader("content-type", "text/event-stream");
      resp.writeHead();
      writeFrom(resp, vertx, pieces, 0, gapMs, end);
    };
  }

  private static void writeFrom(HttpServerResponse resp, Vertx vertx, List<Buffer> pieces,
      int index, long gapMs, boolean end) {
    if (resp.closed()) {
      return;
    }
    if (index == pieces.size()) {
      if (end) {
        resp.end();
      } else {
        resp.reset();
      }
      return;
    }
    resp.write(pieces.get(index));
    if (gapMs <= 0) {
      writeFrom(resp, vertx, pieces, index + 1, gapMs, end);
    } else {
      vertx.setTimer(gapMs, id -> writeFrom(resp, vertx, pieces, index + 1, gapMs, end));
    }
  }

  /**
   * A recorded Anthropic stream, framed as Anthropic sends it: each payload preceded by an {@code
   * event:} line naming its type, and no {@code [DONE]}.
   */
  public static Behavior anthropicSse(List<String> events, long gapMs, boolean end) {
    List<String> frames = new ArrayList<>();
    for (String e : events) {
      String type = new JsonObject(e).getString("type");
      frames.add("event: " + type + "\ndata: " + e + "\n\n");
    }
    return writes(frames, gapMs, end);
  }

  /** Accepts the request and never answers. */
  public static Behavior stall() {
    return (req, resp, vertx) -> { };
  }

  /** Sends the stream headers, then nothing. */
  public static Behavior headersThenStall() {
    return (req, resp, vertx) -> {
      resp.setStatusCode(200).setChunked(true).putHeader("content-type", "text/event-stream");
      resp.writeHead();
    };
  }

  /** A loopback port with nothing listening: connecting to it is refused. */
  public static int refusedPort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** An OpenAI-format error body. */
  public static String openAiError(String message, String type, String code) {
    return new JsonObject().put("error", new JsonObject()
        .put("message", message).put("type", type).put("param", null).put("code", code))
        .encode();
  }
}
