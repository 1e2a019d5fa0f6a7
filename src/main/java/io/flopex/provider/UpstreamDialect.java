package io.flopex.provider;

import io.flopex.config.ProviderConfig;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;

/**
 * What the transport must know of a provider's wire format: where to send a call, how to
 * authenticate, and how to tell a stream's error events and clean end. Translating bodies is not
 * its business; that happens at the ingress, per client dialect.
 */
interface UpstreamDialect {

  /** The request path, including the provider's base path. */
  String path(String upstreamModel, boolean stream);

  /** Authentication and content headers; the key goes to this provider's host only. */
  void headers(RequestOptions options, boolean stream);

  /** A fresh watcher for the events of one stream. */
  StreamWatch watch();

  /** Judges one stream's events as they pass. */
  interface StreamWatch {

    /** Whether this event reports an upstream failure rather than output. */
    boolean isError(String event, JsonObject data);

    /** Whether the stream, as seen so far, has finished cleanly. */
    boolean complete();

    /**
     * Whether the last event was the format's explicit end of stream, after which nothing is
     * owed even if the provider keeps its response open.
     */
    default boolean ended() {
      return false;
    }
  }

  /** The path of the provider's base URL, to which each format appends its own. */
  static String basePath(ProviderConfig provider) {
    String base = provider.baseUrl().getRawPath();
    return base == null ? "" : base;
  }

  /**
   * The headers every format sends: the operator's extra headers, then JSON in and either JSON
   * or an event stream out. The format adds its own authentication.
   */
  static void commonHeaders(ProviderConfig provider, RequestOptions options, boolean stream) {
    provider.headers().forEach(options::putHeader);
    options.putHeader("content-type", "application/json");
    options.putHeader("accept", stream ? "text/event-stream" : "application/json");
  }

  static UpstreamDialect of(ProviderConfig provider) {
    return switch (provider.kind()) {
      case OPENAI, OPENAI_COMPATIBLE -> new OpenAiWire(provider);
      case ANTHROPIC -> new AnthropicWire(provider);
      case GEMINI -> new GeminiWire(provider);
    };
  }
}
