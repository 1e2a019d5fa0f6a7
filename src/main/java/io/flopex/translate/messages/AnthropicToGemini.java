package io.flopex.translate.messages;

import io.flopex.translate.StreamTranslator;
import io.flopex.translate.Translated;
import io.flopex.translate.Translator;
import io.flopex.translate.gemini.OpenAiChatToGemini;
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
    return GEMINI.request(AnthropicToOpenAiChat.toOpenAiChat(client, warnings), upstreamModel,
        stream, warnings);
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
