package io.flopex.translate;

import io.flopex.config.ProviderKind;
import io.flopex.translate.anthropic.OpenAiChatToAnthropic;
import io.flopex.translate.gemini.OpenAiChatToGemini;
import io.flopex.translate.openai.OpenAiChatPassThrough;

/** Picks the translator for a client dialect and a provider's wire format. */
public final class Translators {

  private static final Translator OPENAI_CHAT_TO_OPENAI = new OpenAiChatPassThrough();
  private static final Translator OPENAI_CHAT_TO_ANTHROPIC = new OpenAiChatToAnthropic();
  private static final Translator OPENAI_CHAT_TO_GEMINI = new OpenAiChatToGemini();

  private Translators() {}

  public static Translator forPair(ClientFormat client, ProviderKind provider) {
    return switch (client) {
      case OPENAI_CHAT -> switch (provider) {
        case OPENAI, OPENAI_COMPATIBLE -> OPENAI_CHAT_TO_OPENAI;
        case ANTHROPIC -> OPENAI_CHAT_TO_ANTHROPIC;
        case GEMINI -> OPENAI_CHAT_TO_GEMINI;
      };
    };
  }
}
