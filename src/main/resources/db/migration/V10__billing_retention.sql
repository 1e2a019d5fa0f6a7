-- Billing records are kept for a period of their own (seven years by default), longer than
-- usage metadata. When an account's oldest ledger entries pass that period they are replaced by
-- one 'carried_forward' entry holding their sum, dated at the newest of them, so that the
-- balance is still the sum of the ledger.
ALTER TABLE ledger DROP CONSTRAINT ledger_kind_check;
ALTER TABLE ledger ADD CONSTRAINT ledger_kind_check
  CHECK (kind IN ('top_up', 'charge', 'refund', 'dispute', 'adjustment', 'carried_forward'));

CREATE INDEX ledger_time ON ledger (created_at);
CREATE INDEX stripe_events_time ON stripe_events (received_at);
CREATE INDEX stripe_payments_time ON stripe_payments (created_at);
