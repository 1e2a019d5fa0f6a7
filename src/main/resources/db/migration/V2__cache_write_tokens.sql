-- Prompt tokens written to a provider's prompt cache (Anthropic's cache_creation_input_tokens),
-- priced at their own rate. They are included in prompt_tokens.
ALTER TABLE usage_events ADD COLUMN cache_write_tokens bigint NOT NULL DEFAULT 0;
