package io.flopex.provider;

import io.flopex.config.ProviderConfig;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * The Chat Completions wire of OpenAI and of the hosts that copy it (Groq, Together, DeepSeek,
 * vLLM...): {@code POST {baseUrl}/chat/completions} with a bearer key. A stream has ended cleanly
 * once it sent {@code [DONE]} or a finish reason; some hosts omit one or the other.
 */
class OpenAiWire implements UpstreamDialect {

  private final ProviderConfig provider;
  private final String path;

  OpenAiWire(ProviderConfig provider) {
    this(provider, "/chat/completions");
  }

  /** The same authentication, at another path of the provider's API. */
  OpenAiWire(ProviderConfig provider, String path) {
    this.provider = provider;
    this.path = UpstreamDialect.basePath(provider) + path;
  }

  @Override
  public String path(String upstreamModel, boolean stream) {
    return path;
  }

  @Override
  public void headers(RequestOptions options, boolean stream) {
    UpstreamDialect.commonHeaders(provider, options, stream);
    options.putHeader("authorization", "Bearer " + provider.apiKey());
  }

  @Override
  public StreamWatch watch() {
    return new StreamWatch() {
      private boolean finished;

      @Override
      public boolean isError(String event, JsonObject data) {
        if (data == null) {
          finished = true;
          return false;
        }
        if (data.getValue("error") instanceof JsonObject) {
          return true;
        }
        if (data.getValue("choices") instanceof JsonArray choices) {
          for (Object c : choices) {
            if (c instanceof JsonObject choice && choice.getValue("finish_reason") != null) {
              finished = true;
            }
          }
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
