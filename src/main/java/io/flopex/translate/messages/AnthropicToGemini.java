package io.flopex.translate.messages;

import io.flopex.translate.StreamTranslator;
import io.flopex.translate.Translated;
import io.flopex.translate.Translator;
import io.flopex.translate.gemini.OpenAiChatToGemini;
import io.flopex.translate.UnsupportedRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * Anthropic Messages client to Google's Gemini API, by way of OpenAI's Chat Completions shape:
 * the request is read as {@link AnthropicToOpenAiChat} reads it and sent as {@link
 * OpenAiChatToGemini} sends it; answers and streams come back the same way in reverse.
 */
public final class AnthropicToGemini implements Translator {

  private static final OpenAiChatToGemini GEMINI = new OpenAiChatToGemini();

  @Override
  public JsonObject request(JsonObject client, String upstreamModel, boolean stream,
      List<String> warnings) {
    refuseImageUrls(client);
    JsonObject openAi = AnthropicToOpenAiChat.toOpenAiChat(client, warnings);
    if (openAi.remove("user") != null) {
      warnings.add("'metadata.user_id' is not supported by this provider and was dropped");
    }
    return GEMINI.request(openAi, upstreamModel, stream, warnings);
  }

  /** Gemini takes images inline only; name the client's own field when refusing a URL. */
  private static void refuseImageUrls(JsonObject client) {
    JsonArray messages = client.getJsonArray("messages");
    for (int i = 0; i < messages.size(); i++) {
      if (!(messages.getJsonObject(i).getValue("content") instanceof JsonArray blocks)) {
        continue;
      }
      for (int j = 0; j < blocks.size(); j++) {
        JsonObject block = blocks.getJsonObject(j);
        if ("image".equals(block.getValue("type"))
            && block.getValue("source") instanceof JsonObject source
            && "url".equals(source.getValue("type"))) {
          throw new UnsupportedRequest("messages[" + i + "].content[" + j + "].source",
              "This provider takes images as base64 data only.");
        }
      }
    }
  }

  @Override
  public Translated response(JsonObject upstream, String clientModel) {
    Translated openAi = GEMINI.response(upstream, clientModel);
    return openAi == null ? null : AnthropicToOpenAiChat.toAnthropic(openAi, clientModel);
  }

  @Override
  public StreamTranslator stream(StreamContext context) {
    return new OpenAiChunksToAnthropic(context, GEMINI.stream(new StreamContext(context.id(),
        context.clientModel(), false)));
  }
}
