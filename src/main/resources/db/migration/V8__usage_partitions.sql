-- Usage metadata in one partition per UTC day, so that retention drops whole days instead of
-- deleting rows one by one. Rows that arrive for a day without a partition land in the default
-- partition; the retention verticle creates each day's partition a week ahead.
ALTER TABLE usage_events RENAME TO usage_events_unpartitioned;
ALTER TABLE usage_events_unpartitioned RENAME CONSTRAINT usage_events_pkey
  TO usage_events_unpartitioned_pkey;
ALTER INDEX usage_events_account_time RENAME TO usage_events_unpartitioned_account_time;
ALTER INDEX usage_events_time RENAME TO usage_events_unpartitioned_time;

CREATE TABLE usage_events (LIKE usage_events_unpartitioned INCLUDING DEFAULTS)
  PARTITION BY RANGE (created_at);
ALTER TABLE usage_events ADD PRIMARY KEY (id, created_at);
CREATE INDEX usage_events_account_time ON usage_events (account_id, created_at DESC);
CREATE INDEX usage_events_account_request ON usage_events (account_id, request_id);
CREATE TABLE usage_events_default PARTITION OF usage_events DEFAULT;

DO $$
DECLARE
  day date;
BEGIN
  FOR day IN SELECT generate_series(
      coalesce((SELECT min(created_at AT TIME ZONE 'UTC')::date FROM usage_events_unpartitioned),
               (now() AT TIME ZONE 'UTC')::date),
      (now() AT TIME ZONE 'UTC')::date + 7, interval '1 day')::date
  LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF usage_events FOR VALUES FROM (%L) TO (%L)',
        'usage_events_p' || to_char(day, 'YYYYMMDD'),
        to_char(day, 'YYYY-MM-DD') || ' 00:00:00+00',
        to_char(day + 1, 'YYYY-MM-DD') || ' 00:00:00+00');
  END LOOP;
END $$;

INSERT INTO usage_events SELECT * FROM usage_events_unpartitioned;
DROP TABLE usage_events_unpartitioned;
