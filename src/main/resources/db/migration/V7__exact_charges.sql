-- A charge names the reservation it settles, so that settling is idempotent: a request is
-- charged once, even when its reservation was released early or settling was retried.
ALTER TABLE ledger ADD COLUMN reservation_id uuid;
CREATE UNIQUE INDEX ledger_one_charge_per_reservation ON ledger (reservation_id)
  WHERE reservation_id IS NOT NULL;

-- The tokens an admitted request was expected to use, counted against tokens-a-minute while it
-- is in flight.
ALTER TABLE key_requests ADD COLUMN estimated_tokens bigint NOT NULL DEFAULT 0;
