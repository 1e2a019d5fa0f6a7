package io.flopex.translate;

/** The API dialect a client speaks to Flopex. */
public enum ClientFormat {
  /** OpenAI Chat Completions: {@code POST /v1/chat/completions}. */
  OPENAI_CHAT,
  /** Anthropic Messages: {@code POST /v1/messages}. */
  ANTHROPIC_MESSAGES,
  /** OpenAI Responses: {@code POST /v1/responses}, without stored state. */
  OPENAI_RESPONSES
}
