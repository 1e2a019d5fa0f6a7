-- The prepaid wallet. An account's balance is the sum of its ledger rows; both change in the
-- same statement, so they always agree. reserved_micros is the sum of the account's open
-- reservations: the worst-case cost of requests in flight, set aside before they are sent.
ALTER TABLE accounts
  ADD COLUMN balance_micros  bigint NOT NULL DEFAULT 0,
  ADD COLUMN reserved_micros bigint NOT NULL DEFAULT 0 CHECK (reserved_micros >= 0);

-- Append-only: rows are inserted, never updated or deleted. Positive amounts add to the
-- balance (top-ups, refunds of charges, credits), negative ones take from it.
CREATE TABLE ledger (
  id             bigserial PRIMARY KEY,
  account_id     uuid NOT NULL REFERENCES accounts (id),
  created_at     timestamptz NOT NULL DEFAULT now(),
  kind           text NOT NULL CHECK (kind IN ('top_up', 'charge', 'refund', 'dispute',
                                               'adjustment')),
  amount_micros  bigint NOT NULL,
  request_id     text,
  -- The Stripe object behind a top-up, refund or dispute; never card data.
  external_id    text,
  reason         text
);

CREATE INDEX ledger_account_time ON ledger (account_id, created_at DESC, id DESC);

-- A request's worst-case cost, held from before it is dispatched until it is settled.
CREATE TABLE reservations (
  id             uuid PRIMARY KEY,
  account_id     uuid NOT NULL REFERENCES accounts (id),
  amount_micros  bigint NOT NULL CHECK (amount_micros >= 0),
  request_id     text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX reservations_time ON reservations (created_at);
