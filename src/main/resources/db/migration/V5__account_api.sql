-- What each inference key is allowed: a spending limit per period, request and token rates,
-- requests at once, an expiry and the models it may use. NULL means no limit.
ALTER TABLE api_keys
  ADD COLUMN limit_micros    bigint CHECK (limit_micros >= 0),
  ADD COLUMN limit_reset     text CHECK (limit_reset IN ('daily', 'weekly', 'monthly')),
  ADD COLUMN rpm             integer CHECK (rpm > 0),
  ADD COLUMN tpm             bigint CHECK (tpm > 0),
  ADD COLUMN max_concurrent  integer CHECK (max_concurrent > 0),
  ADD COLUMN expires_at      timestamptz,
  ADD COLUMN allowed_models  text[];

-- Keys that manage an account (its keys, its email, its top-ups) rather than call models.
CREATE TABLE management_keys (
  id          uuid PRIMARY KEY,
  account_id  uuid NOT NULL REFERENCES accounts (id),
  prefix      text NOT NULL,
  key_hash    bytea NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);

CREATE INDEX management_keys_account ON management_keys (account_id);

-- Node-wide secrets every node of a cluster must share, created once by whichever node starts
-- first: the key that signs account tokens.
CREATE TABLE settings (
  name   text PRIMARY KEY,
  value  text NOT NULL
);
