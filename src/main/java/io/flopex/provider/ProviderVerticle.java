package io.flopex.provider;

import io.flopex.logging.Redacted;
import io.flopex.bus.Addresses;
import io.flopex.bus.CallControl;
import io.flopex.bus.CapacityReport;
import io.flopex.bus.ProviderCall;
import io.flopex.bus.ProviderFailure;
import io.flopex.bus.ProviderFailure.Kind;
import io.flopex.bus.ProviderReply;
import io.flopex.bus.StreamEvent;
import io.flopex.config.ProviderConfig;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client of one configured provider. It takes {@link ProviderCall}s from the event bus, sends
 * them upstream with a pooled HTTP client, enforces the provider's timeouts, and reports either a
 * {@link ProviderReply} or a sequence of {@link StreamEvent}s.
 *
 * <p>It decides nothing about failover: it reports what happened, as a {@link ProviderFailure},
 * and the caller chooses the next endpoint.
 */
public final class ProviderVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(ProviderVerticle.class);
  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);
  /** Error bodies are read only to classify them; no provider needs more than this to explain. */
  private static final int MAX_ERROR_BODY = 64 * 1024;
  /**
   * A whole non-streaming answer, decompressed, may not exceed this; a larger one is treated as a
   * broken provider rather than allowed to exhaust the heap.
   */
  static final int MAX_COMPLETED_BODY = 64 * 1024 * 1024;

  private final ProviderConfig provider;
  private final int maxEventBytes;
  private final UpstreamDialect dialect;
  /** The OpenAI Responses wire, for a provider that serves it natively; else {@code null}. */
  private final UpstreamDialect responsesDialect;
  private final Map<String, ActiveCall> active = new HashMap<>();
  private HttpClientAgent client;

  public ProviderVerticle(ProviderConfig provider, int maxEventBytes) {
    this.provider = provider;
    this.maxEventBytes = maxEventBytes;
    this.dialect = UpstreamDialect.of(provider);
    this.responsesDialect = provider.nativeResponses() ? new OpenAiResponsesWire(provider) : null;
  }

  @Override
  public Future<?> start() {
    URI base = provider.baseUrl();
    boolean ssl = "https".equals(base.getScheme());
    HttpClientOptions options = new HttpClientOptions()
        .setDefaultHost(base.getHost())
        .setDefaultPort(base.getPort() > 0 ? base.getPort() : ssl ? 443 : 80)
        .setSsl(ssl)
        .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, provider.timeouts().connectMs()))
        .setDecompressionSupported(true)
        .setKeepAlive(true)
        // The client_name label of Vert.x's HTTP client metrics.
        .setMetricsName(provider.id());
    client = vertx.httpClientBuilder()
        .with(options)
        .with(new PoolOptions().setHttp1MaxSize(provider.maxConnections()))
        // A malformed answer fails its connection with a parser message that may quote the
        // model's output; without a handler Vert.x would log it whole.
        .withConnectHandler(connection -> connection.exceptionHandler(err -> LOG.debug(
            "Provider {}: connection failed", provider.id(), Redacted.of(err))))
        .build();
    MessageConsumer<ProviderCall> calls =
        vertx.eventBus().localConsumer(Addresses.providerCall(provider.id()), this::onCall);
    MessageConsumer<CallControl> controls =
        vertx.eventBus().localConsumer(Addresses.providerControl(provider.id()), this::onControl);
    return Future.all(calls.completion(), controls.completion());
  }

  @Override
  public Future<?> stop() {
    active.values().forEach(ActiveCall::abort);
    return client.close();
  }

  private void onControl(Message<CallControl> message) {
    CallControl control = message.body();
    ActiveCall call = active.get(control.callId());
    if (call == null) {
      return;
    }
    switch (control.action()) {
      case CANCEL -> call.cancel();
      case PAUSE -> call.pause();
      case RESUME -> call.resume();
    }
  }

  private void onCall(Message<ProviderCall> message) {
    ProviderCall call = message.body();
    UpstreamDialect wire = call.responsesApi() && responsesDialect != null ? responsesDialect
        : dialect;
    ActiveCall state = new ActiveCall(call, message, wire);
    active.put(call.callId(), state);
    RequestOptions options = new RequestOptions()
        .setMethod(HttpMethod.POST)
        .setURI(wire.path(call.route().upstreamModel(), call.streaming()));
    wire.headers(options, call.streaming());
    Buffer body = call.body().toBuffer();
    state.armFirstByte();
    client.request(options)
        .compose(request -> {
          state.request = request;
          if (state.done) {
            request.reset();
            return Future.failedFuture("cancelled");
          }
          return request.send(body);
        })
        .onSuccess(state::onResponse)
        .onFailure(state::onConnectFailure);
  }

  /**
   * The parts of a provider's error that may reach the client: text fields only, with this
   * provider's key and address taken out, since some providers echo the request back.
   */
  private JsonObject scrub(JsonObject error) {
    JsonObject out = new JsonObject();
    for (String field : new String[] {"message", "type", "param", "code"}) {
      Object value = error.getValue(field);
      if (value instanceof String || value instanceof Number) {
        out.put(field, redact(value.toString()));
      }
    }
    return out;
  }

  private String redact(String text) {
    String key = provider.apiKey();
    String out = text.replace(key, "[redacted]");
    if (key.length() >= 16) {
      // Providers also echo a key in part, e.g. its first and last characters around stars.
      out = out.replace(key.substring(0, 8), "[redacted]")
          .replace(key.substring(key.length() - 8), "[redacted]");
    }
    String host = provider.baseUrl().getHost();
    return out.replace(provider.baseUrl().toString(), "[provider]").replace(host, "[provider]");
  }

  /** The state of one upstream call, confined to this verticle's event loop. */
  private final class ActiveCall implements SseParser.Listener {

    private final ProviderCall call;
    private final Message<ProviderCall> message;
    private final long startedAt = System.nanoTime();
    private HttpClientRequest request;
    private HttpClientResponse response;
    private long timer = -1;
    private boolean done;
    private boolean paused;
    private boolean firstByteSeen;
    private boolean sawDone;
    private boolean responseEnded;
    private SseParser parser;
    private UpstreamDialect.StreamWatch watch;

    private final UpstreamDialect wire;

    ActiveCall(ProviderCall call, Message<ProviderCall> message, UpstreamDialect wire) {
      this.call = call;
      this.message = message;
      this.wire = wire;
    }

    void armFirstByte() {
      long ms = call.streaming() ? provider.timeouts().firstByteMs()
          : provider.timeouts().responseMs();
      Kind kind = call.streaming() ? Kind.FIRST_BYTE_TIMEOUT : Kind.RESPONSE_TIMEOUT;
      setTimer(ms, kind);
    }

    private void setTimer(long ms, Kind kind) {
      cancelTimer();
      timer = vertx.setTimer(ms, id -> {
        timer = -1;
        fail(ProviderFailure.of(kind));
      });
    }

    private void cancelTimer() {
      if (timer >= 0) {
        vertx.cancelTimer(timer);
        timer = -1;
      }
    }

    void onConnectFailure(Throwable cause) {
      if (!done) {
        LOG.debug("Provider {} call {} failed to connect: {}", provider.id(), call.callId(),
            cause.getClass().getSimpleName());
        fail(ProviderFailure.of(Kind.CONNECT));
      }
    }

    void onResponse(HttpClientResponse resp) {
      if (done) {
        return;
      }
      response = resp;
      resp.exceptionHandler(err -> {
        if (!done) {
          fail(ProviderFailure.of(firstByteSeen ? Kind.STREAM_CUT : Kind.PROTOCOL));
        }
      });
      RateLimitHeaders.Budget budget =
          RateLimitHeaders.read(resp.headers(), System.currentTimeMillis());
      if (budget != null) {
        vertx.eventBus().publish(Addresses.ROUTING_CAPACITY, new CapacityReport(provider.id(),
            call.route().upstreamModel(), budget.fractionLeft(), budget.resetAtMillis()), LOCAL);
      }
      if (resp.statusCode() != 200) {
        readError(resp);
      } else if (call.streaming()) {
        readStream(resp);
      } else {
        readCompleted(resp);
      }
    }

    private void readError(HttpClientResponse resp) {
      int status = resp.statusCode();
      long retryAfterHeader = RetryAfter.parseMillis(resp.headers());
      Buffer body = Buffer.buffer();
      resp.handler(chunk -> {
        if (body.length() < MAX_ERROR_BODY) {
          body.appendBuffer(chunk);
        }
      });
      resp.endHandler(v -> {
        long retryAfter = retryAfterHeader > 0 ? retryAfterHeader
            : RetryAfter.fromBody(JsonSupport.parseObject(body));
        JsonObject error = null;
        if (status == 400 || status == 404 || status == 409 || status == 413 || status == 422) {
          JsonObject parsed = JsonSupport.parseObject(body);
          error = scrub(parsed != null && parsed.getValue("error") instanceof JsonObject e ? e
              : new JsonObject());
        }
        if (error != null && ContextLength.exceeded(error)) {
          fail(new ProviderFailure(Kind.CONTEXT_LENGTH, status, 0, error));
          return;
        }
        fail(new ProviderFailure(Kind.HTTP_STATUS, status, retryAfter, error));
      });
    }

    private void readCompleted(HttpClientResponse resp) {
      Buffer raw = Buffer.buffer();
      resp.handler(chunk -> {
        if (done) {
          return;
        }
        if (raw.length() + chunk.length() > MAX_COMPLETED_BODY) {
          fail(ProviderFailure.of(Kind.PROTOCOL));
          return;
        }
        raw.appendBuffer(chunk);
      });
      resp.endHandler(v -> {
        if (done) {
          return;
        }
        JsonObject body = JsonSupport.parseObject(raw);
        if (body == null) {
          fail(ProviderFailure.of(Kind.PROTOCOL));
          return;
        }
        finish();
        message.reply(new ProviderReply.Completed(body), LOCAL);
      });
    }

    private void readStream(HttpClientResponse resp) {
      parser = new SseParser(maxEventBytes, this);
      watch = wire.watch();
      resp.handler(chunk -> {
        if (done) {
          return;
        }
        firstByteSeen = true;
        if (!paused) {
          setTimer(provider.timeouts().idleMs(), Kind.IDLE_TIMEOUT);
        }
        parser.feed(chunk);
      });
      resp.endHandler(v -> {
        responseEnded = true;
        if (done) {
          return;
        }
        parser.feed(Buffer.buffer("\n\n"));
        if (done) {
          return;
        }
        if (watch.complete()) {
          finish();
          send(new StreamEvent.End(call.callId()));
        } else {
          fail(ProviderFailure.of(Kind.STREAM_CUT));
        }
      });
    }

    @Override
    public void onEvent(String event, String data) {
      if (done || sawDone) {
        return;
      }
      if (data.equals("[DONE]")) {
        sawDone = true;
        watch.isError(event, null);
        if (!watch.complete()) {
          // An end marker before the format's own end: the answer was cut short.
          fail(ProviderFailure.of(Kind.STREAM_CUT));
          return;
        }
        endNow();
        return;
      }
      JsonObject json = JsonSupport.parseObject(data);
      if (json == null) {
        fail(ProviderFailure.of(Kind.PROTOCOL));
        return;
      }
      if (watch.isError(event, json)) {
        fail(new ProviderFailure(Kind.STREAM_ERROR, 0, 0, null));
        return;
      }
      send(new StreamEvent.Chunk(call.callId(), event, json));
      if (watch.ended()) {
        endNow();
      }
    }

    /** The answer is complete: end it now, even if the provider keeps the response open. */
    private void endNow() {
      finish();
      send(new StreamEvent.End(call.callId()));
      vertx.setTimer(provider.timeouts().idleMs(), id -> {
        if (!responseEnded) {
          abort();
        }
      });
    }

    @Override
    public void onOversized(int limit) {
      fail(ProviderFailure.of(Kind.EVENT_TOO_LARGE));
    }

    void pause() {
      if (!done && response != null && !paused) {
        paused = true;
        cancelTimer();
        response.pause();
      }
    }

    void resume() {
      if (!done && response != null && paused) {
        paused = false;
        setTimer(provider.timeouts().idleMs(), Kind.IDLE_TIMEOUT);
        response.resume();
      }
    }

    void cancel() {
      if (!done) {
        LOG.debug("Provider {} call {} cancelled by the client", provider.id(), call.callId());
        finish();
        abort();
        if (!call.streaming()) {
          // Answer the caller now rather than let it wait for its reply timeout.
          message.reply(new ProviderReply.Failed(ProviderFailure.of(Kind.CANCELLED)), LOCAL);
        }
      }
    }

    void abort() {
      if (request != null) {
        request.reset();
      }
    }

    private void fail(ProviderFailure failure) {
      if (done) {
        return;
      }
      LOG.debug("Provider {} call {} failed after {} ms: {}", provider.id(), call.callId(),
          (System.nanoTime() - startedAt) / 1_000_000, failure.label());
      finish();
      // The connection may still be busy or poisoned: closing it is cheaper than reusing it.
      abort();
      if (call.streaming()) {
        send(new StreamEvent.Failed(call.callId(), failure));
      } else {
        message.reply(new ProviderReply.Failed(failure), LOCAL);
      }
    }

    private void finish() {
      done = true;
      cancelTimer();
      active.remove(call.callId());
    }

    private void send(StreamEvent event) {
      vertx.eventBus().send(call.streamAddress(), event, LOCAL);
    }
  }
}
