package io.flopex.translate;

import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * Converts between one client dialect and one provider wire format. There is one implementation
 * per pair; {@link Translators} picks it. A translator is stateless and shared; each streaming
 * attempt gets its own {@link StreamTranslator}.
 */
public interface Translator {

  /**
   * The body to send upstream for the client's validated request. Fields the provider cannot
   * take are dropped and described in {@code warnings}.
   */
  JsonObject request(JsonObject clientRequest, String upstreamModel, boolean stream,
      List<String> warnings);

  /**
   * Like {@link #request(JsonObject, String, boolean, List)}, for translators that send the
   * request as the client wrote it ({@code original}, as validated) rather than in its Chat
   * Completions form.
   */
  default JsonObject request(JsonObject clientRequest, JsonObject original, String upstreamModel,
      boolean stream, List<String> warnings) {
    return request(clientRequest, upstreamModel, stream, warnings);
  }

  /** Whether the body goes to the provider's native OpenAI Responses API. */
  default boolean responsesApi() {
    return false;
  }

  /**
   * A complete upstream answer in the client's dialect, named after the client's model; {@code
   * null} when the body is not a valid answer of the provider's format.
   */
  Translated response(JsonObject upstreamBody, String clientModel);

  /**
   * Like {@link #response(JsonObject, String)}, for dialects whose answers repeat the client's
   * request parameters (the Responses API does); {@code clientRequest} is the request as the
   * client wrote it.
   */
  default Translated response(JsonObject upstreamBody, String clientModel,
      JsonObject clientRequest) {
    return response(upstreamBody, clientModel);
  }

  /** A fresh translator for the events of one streaming attempt. */
  StreamTranslator stream(StreamContext context);

  /**
   * What every event of one client stream shares; {@code clientRequest} is the request as the
   * client wrote it, for dialects whose events repeat its parameters, or {@code null}.
   */
  record StreamContext(String id, String clientModel, boolean includeUsage,
      JsonObject clientRequest) {

    public StreamContext(String id, String clientModel, boolean includeUsage) {
      this(id, clientModel, includeUsage, null);
    }
  }
}
