package io.flopex.translate;

import io.flopex.config.ProviderKind;
import io.flopex.translate.anthropic.OpenAiChatToAnthropic;
import io.flopex.translate.gemini.OpenAiChatToGemini;
import io.flopex.translate.messages.AnthropicPassThrough;
import io.flopex.translate.messages.AnthropicToGemini;
import io.flopex.translate.messages.AnthropicToOpenAiChat;
import io.flopex.translate.openai.OpenAiChatPassThrough;
import io.flopex.translate.responses.ResponsesPassThrough;
import io.flopex.translate.responses.ResponsesTranslator;

/** Picks the translator for a client dialect and a provider's wire format. */
public final class Translators {

  private static final Translator OPENAI_CHAT_TO_OPENAI = new OpenAiChatPassThrough(true);
  private static final Translator OPENAI_CHAT_TO_COMPATIBLE = new OpenAiChatPassThrough(false);
  private static final Translator OPENAI_CHAT_TO_ANTHROPIC = new OpenAiChatToAnthropic();
  private static final Translator OPENAI_CHAT_TO_GEMINI = new OpenAiChatToGemini();
  private static final Translator MESSAGES_TO_OPENAI = new AnthropicToOpenAiChat(true);
  private static final Translator MESSAGES_TO_COMPATIBLE = new AnthropicToOpenAiChat(false);
  private static final Translator MESSAGES_TO_ANTHROPIC = new AnthropicPassThrough();
  private static final Translator MESSAGES_TO_GEMINI = new AnthropicToGemini();
  private static final Translator RESPONSES_TO_OPENAI =
      new ResponsesTranslator(OPENAI_CHAT_TO_OPENAI);
  private static final Translator RESPONSES_NATIVE = new ResponsesPassThrough();
  private static final Translator RESPONSES_TO_COMPATIBLE =
      new ResponsesTranslator(OPENAI_CHAT_TO_COMPATIBLE);
  private static final Translator RESPONSES_TO_ANTHROPIC =
      new ResponsesTranslator(OPENAI_CHAT_TO_ANTHROPIC);
  private static final Translator RESPONSES_TO_GEMINI =
      new ResponsesTranslator(OPENAI_CHAT_TO_GEMINI);

  private Translators() {}

  /**
   * The translator for a client dialect and an endpoint: Responses requests go as written to a
   * provider that serves the Responses API natively.
   */
  public static Translator forRoute(ClientFormat client, io.flopex.bus.Route route) {
    if (client == ClientFormat.OPENAI_RESPONSES && route.nativeResponses()) {
      return RESPONSES_NATIVE;
    }
    return forPair(client, route.kind());
  }

  public static Translator forPair(ClientFormat client, ProviderKind provider) {
    return switch (client) {
      case OPENAI_CHAT -> switch (provider) {
        case OPENAI -> OPENAI_CHAT_TO_OPENAI;
        case OPENAI_COMPATIBLE -> OPENAI_CHAT_TO_COMPATIBLE;
        case ANTHROPIC -> OPENAI_CHAT_TO_ANTHROPIC;
        case GEMINI -> OPENAI_CHAT_TO_GEMINI;
      };
      case ANTHROPIC_MESSAGES -> switch (provider) {
        case OPENAI -> MESSAGES_TO_OPENAI;
        case OPENAI_COMPATIBLE -> MESSAGES_TO_COMPATIBLE;
        case ANTHROPIC -> MESSAGES_TO_ANTHROPIC;
        case GEMINI -> MESSAGES_TO_GEMINI;
      };
      case OPENAI_RESPONSES -> switch (provider) {
        case OPENAI -> RESPONSES_TO_OPENAI;
        case OPENAI_COMPATIBLE -> RESPONSES_TO_COMPATIBLE;
        case ANTHROPIC -> RESPONSES_TO_ANTHROPIC;
        case GEMINI -> RESPONSES_TO_GEMINI;
      };
    };
  }
}
