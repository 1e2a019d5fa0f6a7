package io.flopex.provider;

import io.flopex.config.ProviderConfig;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * Google's Gemini API: {@code POST {baseUrl}/v1beta/models/{model}:generateContent}, or {@code
 * :streamGenerateContent?alt=sse} for a stream, with the key in the {@code x-goog-api-key} header,
 * never in the URL. A stream has ended cleanly once a candidate carried a {@code finishReason}.
 */
final class GeminiWire implements UpstreamDialect {

  private final ProviderConfig provider;
  private final String base;

  GeminiWire(ProviderConfig provider) {
    this.provider = provider;
    this.base = UpstreamDialect.basePath(provider) + "/v1beta/models/";
  }

  @Override
  public String path(String upstreamModel, boolean stream) {
    String model = URLEncoder.encode(upstreamModel, StandardCharsets.UTF_8).replace("+", "%20");
    return base + model + (stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
  }

  @Override
  public void headers(RequestOptions options, boolean stream) {
    UpstreamDialect.commonHeaders(provider, options, stream);
    options.putHeader("x-goog-api-key", provider.apiKey());
  }

  @Override
  public StreamWatch watch() {
    return new StreamWatch() {
      private boolean finished;

      @Override
      public boolean isError(String event, JsonObject data) {
        if (data == null) {
          return false;
        }
        if (data.getValue("error") instanceof JsonObject) {
          return true;
        }
        if (data.getValue("candidates") instanceof JsonArray candidates) {
          for (Object c : candidates) {
            if (c instanceof JsonObject candidate && candidate.getValue("finishReason") != null) {
              finished = true;
            }
          }
        }
        if (data.getValue("promptFeedback") instanceof JsonObject feedback
            && feedback.getValue("blockReason") != null) {
          finished = true;
        }
        return false;
      }

      @Override
      public boolean complete() {
        return finished;
      }
    };
  }
}
