-- Wallet holds and settlements of many requests in one statement each, so that a busy account
-- costs one commit per batch rather than one per request, with the same result as if the
-- requests had come one by one.

-- Sets aside each amount, in order, while the account's balance less what is already set aside
-- covers it. Returns, for each request (ord, from 1), whether its amount was set aside.
CREATE FUNCTION flopex_reserve(p_account uuid, p_ids uuid[], p_amounts bigint[],
    p_request_ids text[])
RETURNS TABLE (ord int, held boolean)
LANGUAGE plpgsql AS $$
DECLARE
  available bigint;
  taken bigint := 0;
BEGIN
  -- NO KEY UPDATE: holds of the account exclude each other, foreign-key checks do not wait.
  SELECT a.balance_micros - a.reserved_micros INTO available FROM accounts a
    WHERE a.id = p_account FOR NO KEY UPDATE;
  FOR i IN 1 .. coalesce(array_length(p_ids, 1), 0) LOOP
    ord := i;
    held := available IS NOT NULL AND available - taken >= p_amounts[i];
    IF held THEN
      taken := taken + p_amounts[i];
      INSERT INTO reservations (id, account_id, amount_micros, request_id)
        VALUES (p_ids[i], p_account, p_amounts[i], p_request_ids[i]);
    END IF;
    RETURN NEXT;
  END LOOP;
  IF taken > 0 THEN
    UPDATE accounts SET reserved_micros = reserved_micros + taken WHERE id = p_account;
  END IF;
END
$$;

-- Ends reservations: each releases what it set aside, if it is still held, and charges its cost
-- (0 charges nothing), once per reservation. Accounts are taken in the order of their ids, so
-- that two nodes settling for the same accounts never wait for each other in a circle. Returns,
-- for each reservation (ord, from 1), whether this call charged or released it.
CREATE FUNCTION flopex_settle(p_ids uuid[], p_accounts uuid[], p_costs bigint[],
    p_request_ids text[])
RETURNS TABLE (ord int, settled boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  s record;
  n bigint;
  keep_request_id boolean;
BEGIN
  FOR s IN SELECT t.res_id, t.account, t.cost, t.request_id, t.pos
      FROM unnest(p_ids, p_accounts, p_costs, p_request_ids) WITH ORDINALITY
        AS t (res_id, account, cost, request_id, pos)
      ORDER BY t.account, t.pos LOOP
    -- The account first: an erasure in progress holds it, and this waits for it to commit and
    -- then sees the account erased, so no client request id is written after erasure.
    SELECT a.erased_at IS NULL INTO keep_request_id FROM accounts a
      WHERE a.id = s.account FOR NO KEY UPDATE;
    WITH done AS (
      DELETE FROM reservations r WHERE r.id = s.res_id RETURNING r.amount_micros
    ), charged AS (
      INSERT INTO ledger (account_id, kind, amount_micros, request_id, reservation_id)
        -- The request id is the client's own; an erased account's charges do not keep it.
        SELECT s.account, 'charge', -(s.cost),
          CASE WHEN keep_request_id THEN s.request_id END,
          s.res_id
        WHERE s.cost > 0
      ON CONFLICT (reservation_id) WHERE reservation_id IS NOT NULL DO NOTHING
      RETURNING amount_micros
    ), account AS (
      UPDATE accounts SET
        reserved_micros = reserved_micros - coalesce((SELECT sum(amount_micros) FROM done), 0),
        balance_micros = balance_micros + coalesce((SELECT sum(amount_micros) FROM charged), 0)
      WHERE id = s.account AND (EXISTS (SELECT 1 FROM done) OR EXISTS (SELECT 1 FROM charged))
      RETURNING id
    )
    SELECT count(*) INTO n FROM account;
    ord := s.pos;
    settled := n = 1;
    RETURN NEXT;
  END LOOP;
END
$$;
