package io.flopex.translate;

import io.flopex.bus.Usage;
import io.flopex.translate.messages.OpenAiChunksToAnthropic;
import io.flopex.translate.openai.OpenAiUsage;
import io.flopex.translate.responses.ResponseObjects;
import io.vertx.core.json.JsonObject;

/** The API dialect a client speaks to Flopex. */
public enum ClientFormat {
  /** OpenAI Chat Completions: {@code POST /v1/chat/completions}. */
  OPENAI_CHAT,
  /** Anthropic Messages: {@code POST /v1/messages}. */
  ANTHROPIC_MESSAGES,
  /** OpenAI Responses: {@code POST /v1/responses}, without stored state. */
  OPENAI_RESPONSES;

  /** Token counts as this dialect's {@code usage} object. */
  public JsonObject usageJson(Usage usage) {
    return switch (this) {
      case OPENAI_CHAT -> OpenAiUsage.toJson(usage);
      case ANTHROPIC_MESSAGES -> OpenAiChunksToAnthropic.usageJson(usage);
      case OPENAI_RESPONSES -> ResponseObjects.usage(usage);
    };
  }
}
