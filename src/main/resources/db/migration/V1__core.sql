-- Accounts and their inference keys. A key is stored only as its SHA-256 hash and a short
-- display prefix; the key itself is shown once, when it is created.
CREATE TABLE accounts (
  id          uuid PRIMARY KEY,
  email       text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
  id          uuid PRIMARY KEY,
  account_id  uuid NOT NULL REFERENCES accounts (id),
  name        text NOT NULL,
  prefix      text NOT NULL,
  key_hash    bytea NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);

CREATE INDEX api_keys_account ON api_keys (account_id);

-- One row per request: routing and metering metadata only. No column can hold message content.
CREATE TABLE usage_events (
  id                 uuid PRIMARY KEY,
  request_id         text NOT NULL,
  created_at         timestamptz NOT NULL,
  account_id         uuid NOT NULL,
  key_id             uuid NOT NULL,
  model              text,
  provider           text,
  upstream_model     text,
  streamed           boolean NOT NULL,
  outcome            text NOT NULL,
  status             integer NOT NULL,
  attempts           jsonb NOT NULL,
  prompt_tokens      bigint NOT NULL,
  completion_tokens  bigint NOT NULL,
  cached_tokens      bigint NOT NULL,
  reasoning_tokens   bigint NOT NULL,
  tokens_estimated   boolean NOT NULL,
  cost_micros        bigint NOT NULL,
  latency_ms         bigint NOT NULL,
  ttfb_ms            bigint NOT NULL
);

CREATE INDEX usage_events_account_time ON usage_events (account_id, created_at DESC);
CREATE INDEX usage_events_time ON usage_events (created_at);
