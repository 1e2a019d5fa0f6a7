package io.flopex.ingress;

import io.flopex.logging.Redacted;
import io.flopex.bus.Addresses;
import io.flopex.bus.AttemptOutcome;
import io.flopex.bus.AttemptRecord;
import io.flopex.bus.CallControl;
import io.flopex.bus.Failure;
import io.flopex.bus.ProviderCall;
import io.flopex.bus.ProviderFailure;
import io.flopex.bus.ProviderReply;
import io.flopex.bus.Route;
import io.flopex.bus.RoutePlan;
import io.flopex.bus.RouteRequest;
import io.flopex.bus.StreamEvent;
import io.flopex.bus.Usage;
import io.flopex.bus.UsageRecord;
import io.flopex.db.AccountStore.KeyOwner;
import io.flopex.db.KeyCounters;
import io.flopex.db.KeyLimits;
import io.flopex.db.TimeOrderedIds;
import java.time.OffsetDateTime;
import io.flopex.routing.ContentPolicy;
import io.flopex.routing.FailoverPolicy;
import io.flopex.translate.ClientEvent;
import io.flopex.translate.ClientFormat;
import io.flopex.translate.StreamTranslator;
import io.flopex.translate.Translated;
import io.flopex.translate.Translator;
import io.flopex.translate.Translators;
import io.flopex.translate.UnsupportedRequest;
import io.flopex.usage.CostCalculator;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One chat completion request, from the route plan to the usage row. It lives on the ingress
 * event loop that accepted the request.
 *
 * <p>Endpoints are tried in the plan's order, each at most once, up to the plan's attempt budget.
 * A stream is held back until its first chunk with content, so that a provider that fails before
 * then is replaced without the client noticing. Once content has been sent the request is
 * committed to that provider: a later failure ends the stream with an in-band error and no
 * {@code [DONE]}. A client that hangs up cancels the upstream call.
 */
final class ChatExchange {

  private static final Logger LOG = LoggerFactory.getLogger(ChatExchange.class);
  /** The routing verticle answers from memory; a slow answer means the node is in trouble. */
  private static final DeliveryOptions PLAN_OPTIONS =
      new DeliveryOptions().setLocalOnly(true).setSendTimeout(5_000);
  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);
  /** Opening events held back before content; a provider sending more is not answering. */
  private static final int MAX_HELD_BACK = 1_000;
  private static final Set<String> OUTPUT_FIELDS =
      Set.of("content", "text", "arguments", "refusal", "reasoning_content", "thinking");

  private final Vertx vertx;
  private final EventBus bus;
  private final HttpServerResponse response;
  private final KeyOwner key;
  private final ChatRequestValidator.Validated request;
  private final String requestId;
  private final String path;
  private final InFlight inFlight;
  private final long startedNanos = System.nanoTime();
  private final Instant startedAt = Instant.now();
  private final List<AttemptRecord> attempts = new ArrayList<>();
  private final Set<Integer> tried = new HashSet<>();
  /** One id for every chunk of the answer, whichever attempt produced it. */
  private final String completionId = "chatcmpl-" + UUID.randomUUID().toString().replace("-", "");

  private RoutePlan plan;
  private Route current;
  private String callId;
  private long attemptStartedNanos;
  private MessageConsumer<StreamEvent> streamConsumer;
  private Translator translator;
  private StreamTranslator relay;
  private final List<ClientEvent> heldBack = new ArrayList<>();
  private ProviderFailure lastFailure;
  private UnsupportedRequest unsupported;
  private boolean committed;
  private boolean upstreamPaused;
  private boolean finished;
  private long ttfbNanos = -1;
  private int attemptCount;
  private final List<String> fallbacks;
  private String servedModel;
  private int fallbacksUsed;
  /** The largest window already too small for the prompt; 0 while none was. */
  private long windowTooSmall;
  private long firstContentNanos = -1;
  private long contentTimer = -1;
  /** The wallet, or null when billing is off. */
  private final Billing billing;
  /** The worst-case cost set aside in the wallet for this request, once reserved. */
  private UUID reservation;
  private boolean contentPolicyRerouted;
  /** Every endpoint of every model the request may use, for pricing its worst case. */
  private List<Route> pricedRoutes;
  /** The key's limits, or null when it has none to count. */
  private final Limits limits;
  private KeyCounters.Admission admission;
  private final Refusals refusals;
  /** The earliest recovery of the endpoints left out because they rest; 0 while none was. */
  private long coolingUntil;

  ChatExchange(
      Vertx vertx,
      HttpServerResponse response,
      KeyOwner key,
      ChatRequestValidator.Validated request,
      String requestId,
      String path,
      Billing billing,
      Limits limits,
      InFlight inFlight,
      Refusals refusals) {
    this.path = path;
    this.inFlight = inFlight;
    this.refusals = refusals;
    this.billing = billing;
    this.limits = Limits.applies(key.limits()) ? limits : null;
    this.vertx = vertx;
    this.bus = vertx.eventBus();
    this.response = response;
    this.key = key;
    this.request = request;
    this.requestId = requestId;
    this.fallbacks = new ArrayList<>(request.fallbackModels());
    this.servedModel = request.model();
  }

  void start() {
    inFlight.begin();
    response.closeHandler(v -> onClientGone());
    KeyLimits allowed = key.limits();
    if (allowed.expiresAt() != null && !allowed.expiresAt().isAfter(OffsetDateTime.now())) {
      fail(new ApiError(Failure.UNAUTHENTICATED, "This API key expired at "
          + allowed.expiresAt() + ".", null));
      return;
    }
    if (!mayUse(request.model())) {
      fail(new ApiError(Failure.MODEL_NOT_ALLOWED, "This API key may not use model '"
          + printable(request.model()) + "'.", "model"));
      return;
    }
    fallbacks.removeIf(model -> {
      if (mayUse(model)) {
        return false;
      }
      warn(List.of("fallback model '" + printable(model) + "' is not allowed for this key and"
          + " was skipped"));
      return true;
    });
    bus.<RoutePlan>request(Addresses.ROUTING_PLAN,
            new RouteRequest(request.model(), request.preferences()), PLAN_OPTIONS)
        .onSuccess(reply -> guard(() -> {
          plan = reply.body();
          if (!plan.modelKnown()) {
            fail(new ApiError(Failure.MODEL_NOT_FOUND, "The model '" + printable(request.model())
                + "' does not exist on this gateway. GET /v1/models lists the models you can"
                + " use.", "model"));
          } else if (plan.routes().isEmpty() && plan.coolingUntilMillis() > 0) {
            noteCooling(plan.coolingUntilMillis());
            // The fallback models, if any, are tried before the client is told to wait.
            priceThenNext();
          } else if (plan.routes().isEmpty() && !plan.unsupportedParameters().isEmpty()) {
            fail(new ApiError(Failure.INVALID_REQUEST, "No endpoint of model '"
                + printable(request.model()) + "' supports the request's parameters ("
                + String.join(", ", plan.unsupportedParameters()) + ");"
                + " provider.require_parameters keeps only endpoints that declare them all.",
                "provider.require_parameters"));
          } else if (plan.routes().isEmpty()) {
            fail(new ApiError(Failure.INVALID_REQUEST, "No endpoint of model '"
                + printable(request.model()) + "' matches the request's provider preferences.",
                "provider"));
          } else {
            priceThenNext();
          }
        }))
        .onFailure(err -> {
          LOG.error("Routing did not answer for request {}: {}", requestId, err.getMessage());
          fail(new ApiError(Failure.INTERNAL, "The gateway could not route the request.", null));
        });
  }

  /**
   * When money or a key's spending limit is at stake, learns the endpoints of every model the
   * request may end up on (its fallback models and the content-policy fallback) before the
   * first attempt, so that the worst case set aside covers the priciest of them.
   */
  private void priceThenNext() {
    if (billing == null && limits == null) {
      next();
      return;
    }
    List<String> others = new ArrayList<>(fallbacks);
    if (plan.contentPolicyFallback() != null && mayUse(plan.contentPolicyFallback())) {
      others.add(plan.contentPolicyFallback());
    }
    List<Route> routes = new ArrayList<>(plan.routes());
    List<Future<Message<RoutePlan>>> plans = new ArrayList<>();
    for (String model : others) {
      plans.add(bus.request(Addresses.ROUTING_PLAN, new RouteRequest(model,
          request.preferences()), PLAN_OPTIONS));
    }
    Future.join(plans).onComplete(done -> guard(() -> {
      for (Future<Message<RoutePlan>> other : plans) {
        if (other.succeeded()) {
          routes.addAll(other.result().body().routes());
        }
      }
      pricedRoutes = List.copyOf(routes);
      next();
    }));
  }

  /** The endpoints the worst case is priced over: every model the request may use. */
  private List<Route> pricedRoutes() {
    return pricedRoutes != null ? pricedRoutes : plan.routes();
  }

  private boolean mayUse(String model) {
    List<String> models = key.limits().allowedModels();
    return models == null || models.contains(model);
  }

  private void admit() {
    limits.admit(key.keyId(), request.request(), pricedRoutes())
        .onComplete(result -> guard(() -> {
          if (result.failed()) {
            LOG.error("Request {}: the key's limits could not be checked: {}", requestId,
                result.cause().getMessage());
            fail(new ApiError(Failure.LIMITS_UNAVAILABLE, "The gateway cannot check this key's"
                + " limits right now; no provider was called. Retry shortly.", null));
            return;
          }
          KeyCounters.Admission decided = result.result();
          Limits.headers(response, decided);
          if (finished) {
            if (decided.admitted()) {
              limits.finish(decided, false, 0, 0);
            }
            return;
          }
          if (!decided.admitted()) {
            refusals.keyLimit(decided.refusal());
            fail(Limits.refusal(decided));
            return;
          }
          admission = decided;
          next();
        }));
  }

  /**
   * Sets aside the request's worst-case cost in the account's wallet before anything is sent,
   * and refuses the request when the wallet does not cover it. A wallet that cannot be reached
   * refuses too: spending must never outrun the balance.
   */
  private void reserve() {
    long worstCase = billing.worstCaseMicros(request.request(), pricedRoutes());
    billing.wallet().reserve(key.accountId(), worstCase, requestId)
        .onComplete(result -> guard(() -> {
          if (result.failed()) {
            LOG.error("Request {}: the wallet could not be reached: {}", requestId,
                result.cause().getMessage());
            fail(new ApiError(Failure.BILLING_UNAVAILABLE, "The gateway cannot check this"
                + " account's balance right now; no provider was called. Retry shortly.",
                null));
            return;
          }
          UUID id = result.result();
          if (finished) {
            // The client left while the reservation was being made.
            if (id != null) {
              billing.settle(id, key.accountId(), 0, requestId);
            }
            return;
          }
          if (id == null) {
            refusals.wallet();
            fail(new ApiError(Failure.INSUFFICIENT_CREDITS, "This account's balance does not"
                + " cover the request's worst-case cost of " + Billing.usd(worstCase)
                + " USD (its prompt and " + billing.maxOutputTokens(request.request())
                + " output tokens at the model's highest price). Top up the account, or lower"
                + " max_tokens.", null));
            return;
          }
          reservation = id;
          next();
        }));
  }

  /** Every endpoint of the current model failed: move on to the next model the client named. */
  private void fallBack() {
    String model = fallbacks.remove(0);
    bus.<RoutePlan>request(Addresses.ROUTING_PLAN,
            new RouteRequest(model, request.preferences()), PLAN_OPTIONS)
        .onSuccess(reply -> guard(() -> {
          if (finished) {
            return;
          }
          if (windowTooSmall > 0 && reply.body().contextLength() > 0
              && reply.body().contextLength() <= windowTooSmall) {
            LOG.info("Request {}: fallback model {} has no larger window, skipped", requestId,
                printable(model));
          } else if (reply.body().modelKnown() && reply.body().routes().isEmpty()
              && reply.body().coolingUntilMillis() > 0) {
            noteCooling(reply.body().coolingUntilMillis());
            LOG.info("Request {}: every endpoint of fallback model {} is resting", requestId,
                printable(model));
          } else if (!reply.body().modelKnown() || reply.body().routes().isEmpty()) {
            warn(List.of("fallback model '" + printable(model) + "' does not exist or has no"
                + " endpoint matching the provider preferences, and was skipped"));
          } else {
            plan = reply.body();
            servedModel = model;
            fallbacksUsed++;
            tried.clear();
            LOG.info("Request {}: falling back to model {}", requestId, printable(model));
          }
          next();
        }))
        .onFailure(err -> guard(this::exhausted));
  }

  private void next() {
    if (finished) {
      return;
    }
    int index = -1;
    if (attempts.size() < plan.maxAttempts()) {
      for (int i = 0; i < plan.routes().size(); i++) {
        if (!tried.contains(i)) {
          index = i;
          break;
        }
      }
    }
    if (index < 0) {
      if (!fallbacks.isEmpty() && attempts.size() < plan.maxAttempts()) {
        fallBack();
      } else {
        exhausted();
      }
      return;
    }
    if (limits != null && admission == null) {
      // The key's own limits first: they hold across every node.
      admit();
      return;
    }
    if (billing != null && reservation == null) {
      // Nothing is sent before the wallet has set the worst case aside.
      reserve();
      return;
    }
    tried.add(index);
    Route route = plan.routes().get(index);
    Translator candidate = Translators.forRoute(request.format(), route);
    List<String> warnings = new ArrayList<>();
    JsonObject body;
    try {
      body = candidate.request(request.request(), request.original(), route.upstreamModel(),
          request.stream(), warnings);
    } catch (UnsupportedRequest e) {
      // This endpoint cannot take the request as written; another one may.
      unsupported = e;
      notAttempted(route);
      next();
      return;
    } catch (RuntimeException e) {
      // A field of a shape the translator did not expect: the client's request, not a bug.
      unsupported = new UnsupportedRequest(null, "The request has a field of an unexpected"
          + " shape for this model's provider; check it against the API reference.");
      notAttempted(route);
      next();
      return;
    }
    attemptCount++;
    current = route;
    translator = candidate;
    callId = UUID.randomUUID().toString();
    attemptStartedNanos = System.nanoTime();
    warn(warnings);
    if (request.stream()) {
      startStream(body);
    } else {
      startCall(body);
    }
  }

  private void warn(List<String> warnings) {
    if (warnings.isEmpty() || response.headWritten()) {
      return;
    }
    String existing = response.headers().get("x-flopex-warnings");
    String added = String.join("; ", warnings);
    response.putHeader("x-flopex-warnings", existing == null ? added : existing + "; " + added);
  }

  private void startCall(JsonObject body) {
    ProviderCall call = new ProviderCall(callId, requestId, current, body, null,
        translator.responsesApi());
    String thisCall = callId;
    DeliveryOptions options = new DeliveryOptions()
        .setLocalOnly(true)
        .setSendTimeout(current.callTimeoutMs() + 1_000);
    bus.<ProviderReply>request(Addresses.providerCall(current.provider()), call, options)
        .onComplete(ar -> guard(() -> {
          if (finished || !thisCall.equals(callId)) {
            return;
          }
          if (ar.failed()) {
            attemptFailed(ProviderFailure.of(ProviderFailure.Kind.RESPONSE_TIMEOUT));
            return;
          }
          ProviderReply reply = ar.result().body();
          if (reply instanceof ProviderReply.Completed done) {
            completed(done);
          } else if (reply instanceof ProviderReply.Failed failed) {
            attemptFailed(failed.failure());
          }
        }));
  }

  /**
   * Runs one step of the exchange so that a bug in it ends the request with an error instead of
   * leaving the client waiting forever.
   */
  private void guard(Runnable step) {
    try {
      step.run();
    } catch (RuntimeException e) {
      LOG.error("Request {} failed inside the gateway", requestId, Redacted.of(e));
      closeStreamConsumer();
      if (current != null && callId != null) {
        control(CallControl.Action.CANCEL);
      }
      if (!finished) {
        record(Failure.INTERNAL.key(), Failure.INTERNAL.status(), Usage.NONE);
      }
      if (response.ended()) {
        return;
      }
      if (!response.headWritten()) {
        sendError(Failure.INTERNAL.status(), new ApiError(Failure.INTERNAL,
            "The gateway failed to handle the request.", null).body(request.format()));
      } else if (relay != null) {
        response.end(relay.failure(Failure.INTERNAL.code(), "The gateway failed while"
            + " streaming; the answer is incomplete.").frame());
      } else {
        response.end();
      }
    }
  }

  private void completed(ProviderReply.Completed done) {
    Translated answer;
    try {
      answer = translator.response(done.body(), servedModel, request.original());
    } catch (RuntimeException e) {
      // The provider's answer has an unexpected shape: its fault, like unparseable JSON.
      answer = null;
    }
    if (answer == null) {
      attemptFailed(ProviderFailure.of(ProviderFailure.Kind.PROTOCOL));
      return;
    }
    attempts.add(attempt("success"));
    Usage usage = answer.usage() != null ? answer.usage()
        : estimate(outputChars(answer.body()));
    reportSuccess(usage, 0);
    ttfbNanos = System.nanoTime() - startedNanos;
    long cost = record("success", 200, usage);
    if (!(answer.body().getValue("usage") instanceof JsonObject)) {
      // The provider reported none: the answer says what was metered, an estimate.
      answer.body().put("usage", request.format().usageJson(usage));
    }
    withCost(answer.body(), cost);
    routingHeaders();
    response.putHeader("content-type", "application/json");
    response.setStatusCode(200).end(answer.body().toBuffer());
  }

  private void startStream(JsonObject body) {
    String address = Addresses.stream(callId);
    relay = translator.stream(new Translator.StreamContext(completionId, servedModel,
        request.includeUsage(), request.original()));
    heldBack.clear();
    String thisCall = callId;
    contentTimer = vertx.setTimer(current.firstByteMs(), id -> guard(() -> {
      // Some providers keep a stream alive with empty chunks; that is not an answer.
      if (!finished && !committed && thisCall.equals(callId)) {
        abandonAttempt(ProviderFailure.of(ProviderFailure.Kind.FIRST_BYTE_TIMEOUT));
      }
    }));
    streamConsumer = bus.localConsumer(address, message -> guard(() -> onStreamEvent(message)));
    ProviderCall call = new ProviderCall(callId, requestId, current, body, address,
        translator.responsesApi());
    bus.send(Addresses.providerCall(current.provider()), call, LOCAL);
  }

  private void onStreamEvent(Message<StreamEvent> message) {
    onStreamEvent(message.body());
  }

  private void onStreamEvent(StreamEvent event) {
    if (finished || !event.callId().equals(callId)) {
      return;
    }
    if (event instanceof StreamEvent.Chunk chunk) {
      List<ClientEvent> out;
      try {
        out = relay.accept(chunk.event(), chunk.data());
      } catch (RuntimeException e) {
        // An event of an unexpected shape is a broken provider, as unparseable JSON would be.
        control(CallControl.Action.CANCEL);
        onStreamEvent(new StreamEvent.Failed(callId,
            ProviderFailure.of(ProviderFailure.Kind.PROTOCOL)));
        return;
      }
      if (committed) {
        out.forEach(this::write);
      } else {
        heldBack.addAll(out);
        if (relay.hasContent()) {
          commit();
        } else if (heldBack.size() > MAX_HELD_BACK) {
          abandonAttempt(ProviderFailure.of(ProviderFailure.Kind.PROTOCOL));
        }
      }
    } else if (event instanceof StreamEvent.End) {
      closeStreamConsumer();
      if (!committed && !relay.hasContent()) {
        attemptFailed(ProviderFailure.of(ProviderFailure.Kind.STREAM_CUT));
        return;
      }
      if (!committed) {
        commit();
      }
      attempts.add(attempt("success"));
      Usage usage = relay.reportedUsage() != null ? relay.reportedUsage()
          : estimate(relay.deliveredChars());
      reportSuccess(usage, firstContentNanos < 0 ? 0
          : (firstContentNanos - attemptStartedNanos) / 1_000_000);
      long cost = record("success", 200, usage);
      relay.end(usage).forEach(last -> write(last.data() == null ? last
          : new ClientEvent(last.name(), withCost(last.data(), cost))));
      response.end();
    } else if (event instanceof StreamEvent.Failed failed) {
      closeStreamConsumer();
      if (!committed) {
        attemptFailed(failed.failure());
        return;
      }
      attempts.add(attempt(failed.failure().label()));
      LOG.info("Stream of request {} from provider {} failed after content: {}", requestId,
          current.provider(), failed.failure().label());
      ClientEvent error = relay.failure(Failure.STREAM_INTERRUPTED.code(), "The provider's"
          + " stream failed after output had started (" + failed.failure().kind().description()
          + "); the answer is incomplete.");
      Usage usage = relay.reportedUsage() != null ? relay.reportedUsage()
          : estimate(relay.deliveredChars());
      record(Failure.STREAM_INTERRUPTED.key(), Failure.STREAM_INTERRUPTED.status(), usage);
      response.end(error.frame());
    }
  }

  /** Gives up on the current streaming attempt before content, and moves on. */
  private void abandonAttempt(ProviderFailure failure) {
    control(CallControl.Action.CANCEL);
    closeStreamConsumer();
    attemptFailed(failure);
  }

  /** Tells the routing verticle how a successful attempt went, for latency-ordered routing. */
  private void reportSuccess(Usage usage, long ttfbMs) {
    bus.publish(Addresses.ROUTING_OUTCOME, new AttemptOutcome(current.provider(),
        current.upstreamModel(), null, System.currentTimeMillis(),
        Math.max(1, (System.nanoTime() - attemptStartedNanos) / 1_000_000), ttfbMs,
        usage.completionTokens()), LOCAL);
  }

  /** Tells routing that an endpoint of the plan was passed over, so a trial there is freed. */
  private void notAttempted(Route route) {
    bus.publish(Addresses.ROUTING_OUTCOME, new AttemptOutcome(route.provider(),
        route.upstreamModel(), ProviderFailure.of(ProviderFailure.Kind.NOT_ATTEMPTED),
        System.currentTimeMillis()), LOCAL);
  }

  private void commit() {
    // The endpoint is answering: that settles a circuit breaker's trial, long before the end.
    bus.publish(Addresses.ROUTING_OUTCOME, new AttemptOutcome(current.provider(),
        current.upstreamModel(), null, System.currentTimeMillis(), 0, 0, 0, true), LOCAL);
    committed = true;
    firstContentNanos = System.nanoTime();
    vertx.cancelTimer(contentTimer);
    ttfbNanos = System.nanoTime() - startedNanos;
    routingHeaders();
    response.setStatusCode(200)
        .setChunked(true)
        .putHeader("content-type", "text/event-stream; charset=utf-8")
        .putHeader("cache-control", "no-cache")
        .putHeader("x-accel-buffering", "no");
    heldBack.forEach(this::write);
    heldBack.clear();
  }

  private void write(ClientEvent event) {
    response.write(event.frame());
    if (!upstreamPaused && response.writeQueueFull()) {
      upstreamPaused = true;
      control(CallControl.Action.PAUSE);
      long stall = vertx.setTimer(current.idleMs(), id -> guard(this::clientTooSlow));
      response.drainHandler(v -> {
        vertx.cancelTimer(stall);
        upstreamPaused = false;
        control(CallControl.Action.RESUME);
      });
    }
  }

  private void attemptFailed(ProviderFailure failure) {
    attempts.add(attempt(failure.label()));
    lastFailure = failure;
    bus.publish(Addresses.ROUTING_OUTCOME, new AttemptOutcome(current.provider(),
        current.upstreamModel(), failure, System.currentTimeMillis()), LOCAL);
    if (FailoverPolicy.needsLargerWindow(failure)) {
      // Every endpoint of this model shares its window: only a larger model can help.
      windowTooSmall = Math.max(windowTooSmall, Math.max(1, plan.contextLength()));
      for (int i = 0; i < plan.routes().size(); i++) {
        tried.add(i);
      }
      LOG.info("Request {}: prompt too long for model {}, looking for a larger window",
          requestId, printable(plan.model()));
      next();
      return;
    }
    if (ContentPolicy.refused(failure) && plan.contentPolicyFallback() != null
        && !contentPolicyRerouted && mayUse(plan.contentPolicyFallback())) {
      // The operator named a model for requests this one's providers refuse: go there next.
      contentPolicyRerouted = true;
      LOG.info("Request {}: provider {} refused it under its content policy; moving to model {}",
          requestId, current.provider(), printable(plan.contentPolicyFallback()));
      fallbacks.add(0, plan.contentPolicyFallback());
      for (int i = 0; i < plan.routes().size(); i++) {
        tried.add(i);
      }
      next();
      return;
    }
    if (!FailoverPolicy.movesOn(failure)) {
      clientErrorFromUpstream(failure);
      return;
    }
    LOG.info("Request {}: provider {} failed ({}), trying the next endpoint", requestId,
        current.provider(), failure.label());
    next();
  }

  private void clientErrorFromUpstream(ProviderFailure failure) {
    JsonObject upstream = failure.clientError();
    String message = upstream.getValue("message") instanceof String s && !s.isBlank() ? s
        : "The provider rejected the request (HTTP " + failure.status() + ").";
    JsonObject body = request.format() == ClientFormat.ANTHROPIC_MESSAGES
        ? ApiError.anthropicBody(failure.status(), message)
        : ApiError.openAiBody(message,
            upstream.getValue("type") instanceof String t ? t : "invalid_request_error",
            upstream.getValue("param") instanceof String p ? p : null,
            upstream.getValue("code") != null ? upstream.getValue("code")
                : Failure.UPSTREAM_CLIENT_ERROR.code());
    record(Failure.UPSTREAM_CLIENT_ERROR.key(), failure.status(), Usage.NONE);
    routingHeaders();
    sendError(failure.status(), body);
  }

  /** Every endpoint is resting: answer at once, without calling anyone, saying when to retry. */
  /** Remembers the earliest time an endpoint left out for resting or an open circuit recovers. */
  private void noteCooling(long untilMillis) {
    coolingUntil = coolingUntil == 0 ? untilMillis : Math.min(coolingUntil, untilMillis);
  }

  private void coolingDown(long untilMillis) {
    long seconds = Math.max(1, (untilMillis - System.currentTimeMillis() + 999) / 1000);
    response.putHeader("retry-after", Long.toString(seconds));
    routingHeaders();
    fail(new ApiError(Failure.UPSTREAM_UNAVAILABLE, "Every provider of model '"
        + printable(request.model()) + "'" + (fallbacksUsed > 0 || !request.fallbackModels()
            .isEmpty() ? " and of its fallback models" : "") + " is out of capacity; retry in "
        + seconds + " s.", null));
  }

  private void exhausted() {
    if (attempts.isEmpty() && coolingUntil > 0 && windowTooSmall == 0 && unsupported == null) {
      coolingDown(coolingUntil);
      return;
    }
    if (windowTooSmall > 0) {
      fail(new ApiError(Failure.CONTEXT_LENGTH_EXCEEDED, "The prompt is longer than the context"
          + " window of every model that could serve it.",
          request.format() == ClientFormat.OPENAI_RESPONSES ? "input" : "messages"));
      return;
    }
    if (lastFailure == null && unsupported != null) {
      fail(new ApiError(Failure.INVALID_REQUEST, unsupported.getMessage(), unsupported.param()));
      return;
    }
    Failure failure = lastFailure == null ? Failure.UPSTREAM_ERROR
        : FailoverPolicy.exhausted(lastFailure);
    String detail = lastFailure == null ? "no endpoint could be tried"
        : "last: " + FailoverPolicy.explain(lastFailure);
    int count = attempts.size();
    ApiError error = new ApiError(failure, "Every provider for model '" + printable(plan.model())
        + "' failed (" + count + (count == 1 ? " attempt" : " attempts") + "; " + detail + ").",
        null);
    LOG.warn("Request {} for model {} failed after {} attempts: {}", requestId, plan.model(),
        count, lastFailure == null ? "none" : lastFailure.label());
    routingHeaders();
    if (lastFailure != null && lastFailure.retryAfterMs() > 0) {
      response.putHeader("retry-after",
          Long.toString(Math.max(1, (lastFailure.retryAfterMs() + 999) / 1000)));
    }
    fail(error);
  }

  private void fail(ApiError error) {
    if (finished) {
      return;
    }
    record(error.failure().key(), error.status(), Usage.NONE);
    sendError(error.status(), error.body(request.format()));
  }

  private void sendError(int status, JsonObject body) {
    if (!response.ended() && !response.headWritten()) {
      routingHeaders();
      response.setStatusCode(status)
          .putHeader("content-type", "application/json")
          .end(body.toBuffer());
    }
  }

  /** A client that stops reading must not hold an upstream connection forever. */
  private void clientTooSlow() {
    if (finished || !upstreamPaused) {
      return;
    }
    LOG.info("Request {}: the client stopped reading; closing the stream", requestId);
    control(CallControl.Action.CANCEL);
    attempts.add(attempt(Failure.CLIENT_TOO_SLOW.key()));
    closeStreamConsumer();
    Usage usage = relay.reportedUsage() != null ? relay.reportedUsage()
        : estimate(relay.deliveredChars());
    record(Failure.CLIENT_TOO_SLOW.key(), Failure.CLIENT_TOO_SLOW.status(), usage);
    response.reset();
  }

  private void onClientGone() {
    if (finished) {
      return;
    }
    LOG.info("Request {}: the client disconnected; cancelling the upstream call", requestId);
    if (current != null && callId != null) {
      control(CallControl.Action.CANCEL);
      attempts.add(attempt(Failure.CLIENT_DISCONNECTED.key()));
    }
    closeStreamConsumer();
    Usage usage;
    if (relay != null && relay.hasContent()) {
      usage = relay.reportedUsage() != null ? relay.reportedUsage()
          : estimate(relay.deliveredChars());
    } else {
      // Nothing was delivered: the client is not charged for an answer it never saw.
      usage = Usage.NONE;
    }
    record(Failure.CLIENT_DISCONNECTED.key(), Failure.CLIENT_DISCONNECTED.status(), usage);
  }

  private void control(CallControl.Action action) {
    bus.send(Addresses.providerControl(current.provider()), new CallControl(callId, action), LOCAL);
  }

  private void closeStreamConsumer() {
    vertx.cancelTimer(contentTimer);
    if (streamConsumer != null) {
      streamConsumer.unregister();
      streamConsumer = null;
    }
  }

  private void routingHeaders() {
    if (response.headWritten()) {
      return;
    }
    if (current != null) {
      response.putHeader("x-flopex-provider", current.provider());
    }
    response.putHeader("x-flopex-attempts", Integer.toString(attemptCount));
    response.putHeader("x-flopex-fallbacks", Integer.toString(fallbacksUsed));
    if (attemptCount > 0) {
      // What was tried, in order: each earlier attempt with how it ended, then the current one.
      StringBuilder tried = new StringBuilder();
      for (AttemptRecord attempt : attempts) {
        tried.append(tried.length() == 0 ? "" : ", ").append(attempt.provider()).append('=')
            .append(attempt.outcome());
      }
      if (current != null && attempts.size() < attemptCount) {
        tried.append(tried.length() == 0 ? "" : ", ").append(current.provider());
      }
      response.putHeader("x-flopex-tried", tried.toString());
    }
  }

  private AttemptRecord attempt(String outcome) {
    return new AttemptRecord(current.provider(), current.upstreamModel(), outcome,
        (System.nanoTime() - attemptStartedNanos) / 1_000_000);
  }

  /**
   * Tokens counted by Flopex when upstream reported none: about four characters a token, for
   * the prompt and for what was delivered. Rows carrying such counts are flagged as estimates.
   */
  private Usage estimate(long completionChars) {
    long promptChars = 0;
    if (request.request().getValue("messages") instanceof JsonArray messages) {
      for (Object m : messages) {
        if (m instanceof JsonObject message) {
          Object content = message.getValue("content");
          promptChars += content instanceof String s ? s.length()
              : content == null ? 0 : content.toString().length();
        }
      }
    }
    return new Usage((promptChars + 3) / 4, (completionChars + 3) / 4, 0, 0, true);
  }

  /** Characters of output in an answer, in either dialect, for estimating missing usage. */
  private static long outputChars(Object value) {
    long chars = 0;
    if (value instanceof JsonObject o) {
      for (Map.Entry<String, Object> field : o) {
        if (field.getValue() instanceof String s && OUTPUT_FIELDS.contains(field.getKey())) {
          chars += s.length();
        } else {
          chars += outputChars(field.getValue());
        }
      }
    } else if (value instanceof JsonArray a) {
      for (Object item : a) {
        chars += outputChars(item);
      }
    }
    return chars;
  }

  /** Writes the request's usage row and settles its money; returns its cost in micro-USD. */
  private long record(String outcome, int status, Usage usage) {
    if (finished) {
      return 0;
    }
    boolean served = current != null && !attempts.isEmpty()
        && (outcome.equals("success") || usage.completionTokens() > 0);
    long cost = served ? CostCalculator.costMicros(usage, current.pricing()) : 0;
    long latencyMs = (System.nanoTime() - startedNanos) / 1_000_000;
    UsageRecord record = new UsageRecord(
        TimeOrderedIds.next(), requestId, startedAt, key.accountId(), key.keyId(), request.model(),
        served ? current.provider() : null, served ? current.upstreamModel() : null,
        request.stream(), outcome, status, List.copyOf(attempts), usage, cost, latencyMs,
        ttfbNanos < 0 ? 0 : ttfbNanos / 1_000_000);
    finished = true;
    Future<Void> charged = reservation == null ? Future.succeededFuture()
        : billing.settle(reservation, key.accountId(), cost, requestId);
    if (admission != null) {
      limits.finish(admission, !attempts.isEmpty(), usage.promptTokens()
          + usage.completionTokens(), cost);
    }
    bus.send(Addresses.USAGE_RECORD, record, LOCAL);
    charged.onComplete(v -> inFlight.end());
    RequestLog.chat("POST", path, record);
    return cost;
  }

  /**
   * Adds the request's cost to the usage object of an answer or a stream event, when it has
   * one (at the top, or in the {@code response} a Responses API event carries): {@code cost} in
   * USD, written exactly from the integer micro-USD, and {@code cost_micros}.
   */
  static JsonObject withCost(JsonObject body, long costMicros) {
    JsonObject holder = body.getValue("response") instanceof JsonObject r
        && !body.containsKey("usage") ? r : body;
    if (holder.getValue("usage") instanceof JsonObject usage) {
      usage.put("cost", new java.math.BigDecimal(costMicros).movePointLeft(6))
          .put("cost_micros", costMicros);
    }
    return body;
  }

  /** Model names come from the client; keep them short and printable in messages and logs. */
  static String printable(String value) {
    String cleaned = value.replaceAll("[^\\x20-\\x7E]", "?");
    return cleaned.length() > 128 ? cleaned.substring(0, 128) + "..." : cleaned;
  }
}
