-- Requests of keys that have limits, for counting them exactly across nodes: when each began,
-- when it ended, its tokens and cost, and the worst case reserved while it runs. Rows of keys
-- without limits are never written.
CREATE TABLE key_requests (
  id             uuid PRIMARY KEY,
  key_id         uuid NOT NULL REFERENCES api_keys (id),
  started_at     timestamptz NOT NULL DEFAULT now(),
  finished_at    timestamptz,
  tokens         bigint NOT NULL DEFAULT 0,
  cost_micros    bigint NOT NULL DEFAULT 0,
  reserved_micros bigint NOT NULL DEFAULT 0
);

CREATE INDEX key_requests_key_time ON key_requests (key_id, started_at);
