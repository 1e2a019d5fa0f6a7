package io.flopex.provider;

import io.flopex.config.ProviderConfig;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;

/**
 * Anthropic's Messages API: {@code POST {baseUrl}/v1/messages} with the key in {@code x-api-key}.
 * A stream reports failures as an {@code error} event, and has ended cleanly once it sent {@code
 * message_stop}.
 */
final class AnthropicWire implements UpstreamDialect {

  static final String VERSION = "2023-06-01";

  private final ProviderConfig provider;
  private final String path;

  AnthropicWire(ProviderConfig provider) {
    this.provider = provider;
    this.path = UpstreamDialect.basePath(provider) + "/v1/messages";
  }

  @Override
  public String path(String upstreamModel, boolean stream) {
    return path;
  }

  @Override
  public void headers(RequestOptions options, boolean stream) {
    UpstreamDialect.commonHeaders(provider, options, stream);
    options.putHeader("x-api-key", provider.apiKey());
    options.putHeader("anthropic-version", VERSION);
  }

  @Override
  public StreamWatch watch() {
    return new StreamWatch() {
      private boolean stopped;

      @Override
      public boolean isError(String event, JsonObject data) {
        if (data == null) {
          return false;
        }
        String type = data.getValue("type") instanceof String t ? t : event;
        if ("message_stop".equals(type)) {
          stopped = true;
        }
        return "error".equals(type) || "error".equals(event);
      }

      @Override
      public boolean complete() {
        return stopped;
      }

      @Override
      public boolean ended() {
        return stopped;
      }
    };
  }
}
