-- An account whose holder asked to be forgotten: its email is gone and it can no longer be
-- used; the ledger rows the law requires stay, tied only to the account's random id.
ALTER TABLE accounts ADD COLUMN erased_at timestamptz;
