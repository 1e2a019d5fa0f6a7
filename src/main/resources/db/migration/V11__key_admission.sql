-- Counting the requests of keys with limits in constant time per request, whatever the rate:
-- per key and second, how many requests began, how many ended and their tokens; per key and
-- UTC day (of the request's start), what the ended requests cost. Requests in flight are the
-- rows of key_requests not yet finished, found through a partial index. No foreign keys: the
-- rows are upserted while other requests of the key hold its row, and are removed with the key's
-- other counts (erasure, retention).
CREATE TABLE key_seconds (
  key_id   uuid NOT NULL,
  second   bigint NOT NULL,
  started  integer NOT NULL DEFAULT 0,
  finished integer NOT NULL DEFAULT 0,
  tokens   bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (key_id, second)
);

CREATE TABLE key_days (
  key_id      uuid NOT NULL,
  day         date NOT NULL,
  cost_micros bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (key_id, day)
);

CREATE INDEX key_requests_in_flight ON key_requests (key_id, started_at)
  WHERE finished_at IS NULL;

-- What was counted before these tables existed.
INSERT INTO key_seconds (key_id, second, started)
  SELECT key_id, floor(extract(epoch FROM started_at))::bigint, count(*) FROM key_requests
  WHERE started_at > now() - interval '1 hour' GROUP BY 1, 2;
INSERT INTO key_seconds (key_id, second, finished, tokens)
  SELECT key_id, floor(extract(epoch FROM finished_at))::bigint, count(*), sum(tokens)
  FROM key_requests WHERE finished_at > now() - interval '1 hour' GROUP BY 1, 2
  ON CONFLICT (key_id, second) DO UPDATE SET finished = EXCLUDED.finished,
    tokens = EXCLUDED.tokens;
INSERT INTO key_days (key_id, day, cost_micros)
  SELECT key_id, (started_at AT TIME ZONE 'UTC')::date, sum(cost_micros) FROM key_requests
  WHERE finished_at IS NOT NULL GROUP BY 1, 2;

-- Admission of requests of one key with limits, in one statement: the key's row is locked, the
-- key's counts are read, and each request in turn is checked against the limits in the order
-- requests, tokens, concurrency, spending, counting the ones admitted before it, and recorded as
-- in flight when all of them allow it. The key's row stays locked only while this statement and
-- its commit run, so admissions of one key queue behind each other on every node for as long as
-- one admission takes, never for a round trip. A node sends the requests of a key that arrive
-- while its previous admission runs together, in one call.
-- A minute is counted in whole seconds: the 60 seconds that end with the current one.
--
-- Returns, for each request (ord, from 1), the refusal (NULL when admitted), milliseconds to
-- wait before a retry, and what the rate-limit headers report.
CREATE FUNCTION flopex_admit(p_key uuid, p_ids uuid[], p_stale_minutes int,
    p_token_estimates bigint[], p_default_estimates bigint[], p_worst_micros bigint[])
RETURNS TABLE (ord int, refusal text, retry_after_ms bigint, rpm_limit bigint,
    recent_requests bigint, requests_free_ms bigint, tpm_limit bigint, used_tokens bigint,
    tokens_free_ms bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  k record;
  w record;
  now_ms bigint := floor(extract(epoch FROM now()) * 1000)::bigint;
  now_s bigint := floor(extract(epoch FROM now()))::bigint;
  recent bigint;
  first_started bigint;
  in_flight bigint;
  in_flight_tokens bigint;
  period_start timestamptz;
  period_end timestamptz;
  spent bigint := 0;
  expected bigint;
  refused text;
  wait_ms bigint;
  admitted_ids uuid[] := '{}';
  admitted_worst bigint[] := '{}';
  admitted_expected bigint[] := '{}';
BEGIN
  -- NO KEY UPDATE: admissions of the key exclude each other, foreign-key checks do not wait.
  SELECT a.rpm, a.tpm, a.max_concurrent, a.limit_micros, a.limit_reset INTO k
    FROM api_keys a WHERE a.id = p_key FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no API key %', p_key USING ERRCODE = 'no_data_found';
  END IF;
  SELECT coalesce(sum(s.started), 0)::bigint AS recent,
      coalesce(sum(s.finished), 0)::bigint AS finished,
      coalesce(sum(s.tokens), 0)::bigint AS tokens,
      min(s.second) FILTER (WHERE s.started > 0) AS first_started,
      min(s.second) FILTER (WHERE s.finished > 0) AS first_finished
    INTO w
    FROM key_seconds s WHERE s.key_id = p_key AND s.second > now_s - 60;
  recent := w.recent;
  first_started := w.first_started;
  SELECT count(*), coalesce(sum(r.estimated_tokens), 0)::bigint
    INTO in_flight, in_flight_tokens
    FROM key_requests r
    WHERE r.key_id = p_key AND r.finished_at IS NULL
      AND r.started_at > now() - make_interval(mins => p_stale_minutes);
  IF k.limit_micros IS NOT NULL THEN
    period_start := CASE k.limit_reset
      WHEN 'daily' THEN date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
      WHEN 'weekly' THEN date_trunc('week', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
      WHEN 'monthly' THEN date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
      ELSE '-infinity'::timestamptz END;
    period_end := CASE k.limit_reset
      WHEN 'daily' THEN period_start + interval '1 day'
      WHEN 'weekly' THEN period_start + interval '1 week'
      WHEN 'monthly' THEN (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month')
        AT TIME ZONE 'UTC' END;
    -- What ended costs what it cost; what is in flight holds its worst case.
    SELECT coalesce(sum(d.cost_micros), 0)::bigint INTO spent FROM key_days d
      WHERE d.key_id = p_key AND (period_start = '-infinity'::timestamptz
        OR d.day >= (period_start AT TIME ZONE 'UTC')::date);
    spent := spent + (SELECT coalesce(sum(r.reserved_micros), 0)::bigint FROM key_requests r
      WHERE r.key_id = p_key AND r.finished_at IS NULL AND r.started_at >= period_start);
  END IF;
  FOR i IN 1 .. coalesce(array_length(p_ids, 1), 0) LOOP
    expected := CASE WHEN p_token_estimates[i] >= 0 THEN p_token_estimates[i]
      WHEN w.finished > 0 THEN w.tokens / w.finished ELSE p_default_estimates[i] END;
    refused := NULL;
    wait_ms := 0;
    -- A quiet minute lets one request through whatever it may use; after that, what finished,
    -- what is in flight and what this one may use must fit.
    IF k.rpm IS NOT NULL AND recent >= k.rpm THEN
      refused := 'REQUESTS';
      wait_ms := greatest((first_started + 60) * 1000 - now_ms, 1);
    ELSIF k.tpm IS NOT NULL AND NOT (w.tokens = 0 AND in_flight = 0)
        AND w.tokens + in_flight_tokens + expected > k.tpm THEN
      refused := 'TOKENS';
      wait_ms := greatest(coalesce((w.first_finished + 60) * 1000 - now_ms, 0), 1);
    ELSIF k.max_concurrent IS NOT NULL AND in_flight >= k.max_concurrent THEN
      refused := 'CONCURRENCY';
      wait_ms := 1000;
    ELSIF k.limit_micros IS NOT NULL AND spent + p_worst_micros[i] > k.limit_micros THEN
      refused := 'CREDIT';
      wait_ms := greatest(0, coalesce(floor(extract(epoch FROM period_end - now()) * 1000), 0))
        ::bigint;
    END IF;
    ord := i;
    refusal := refused;
    retry_after_ms := wait_ms;
    rpm_limit := coalesce(k.rpm, 0);
    recent_requests := recent;
    requests_free_ms := greatest(0, coalesce((first_started + 60) * 1000 - now_ms, 0));
    tpm_limit := coalesce(k.tpm, 0);
    used_tokens := w.tokens + in_flight_tokens;
    tokens_free_ms := greatest(0, coalesce((w.first_finished + 60) * 1000 - now_ms, 0));
    RETURN NEXT;
    IF refused IS NULL THEN
      recent := recent + 1;
      first_started := coalesce(first_started, now_s);
      in_flight := in_flight + 1;
      in_flight_tokens := in_flight_tokens + expected;
      spent := spent + p_worst_micros[i];
      admitted_ids := admitted_ids || p_ids[i];
      admitted_worst := admitted_worst || p_worst_micros[i];
      admitted_expected := admitted_expected || expected;
    END IF;
  END LOOP;
  IF array_length(admitted_ids, 1) > 0 THEN
    INSERT INTO key_requests (id, key_id, reserved_micros, estimated_tokens)
      SELECT a.id, p_key, a.worst, a.expected
      FROM unnest(admitted_ids, admitted_worst, admitted_expected) AS a (id, worst, expected);
    INSERT INTO key_seconds (key_id, second, started)
      VALUES (p_key, now_s, array_length(admitted_ids, 1))
      ON CONFLICT (key_id, second) DO UPDATE SET started = key_seconds.started + EXCLUDED.started;
  END IF;
END
$$;

-- How requests ended: they are no longer in flight, and their tokens (in the second they ended)
-- and their cost (on the day they began) now count. Ending a request twice counts it once. The
-- counts are taken in the order of their keys, so that two nodes ending requests of the same keys
-- at once never wait for each other in a circle.
CREATE FUNCTION flopex_finish(p_ids uuid[], p_tokens bigint[], p_cost_micros bigint[])
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  WITH ended AS (
    UPDATE key_requests r SET finished_at = now(), tokens = e.tokens, cost_micros = e.cost
      FROM unnest(p_ids, p_tokens, p_cost_micros) AS e (id, tokens, cost)
      WHERE r.id = e.id AND r.finished_at IS NULL
      RETURNING r.key_id, r.started_at, e.tokens, e.cost
  ), seconds AS (
    INSERT INTO key_seconds (key_id, second, finished, tokens)
      SELECT key_id, floor(extract(epoch FROM now()))::bigint, count(*), sum(tokens)
      FROM ended GROUP BY key_id ORDER BY key_id
      ON CONFLICT (key_id, second) DO UPDATE SET finished = key_seconds.finished
        + EXCLUDED.finished, tokens = key_seconds.tokens + EXCLUDED.tokens
  )
  INSERT INTO key_days (key_id, day, cost_micros)
    SELECT key_id, (started_at AT TIME ZONE 'UTC')::date, sum(cost) FROM ended
    GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (key_id, day) DO UPDATE SET
      cost_micros = key_days.cost_micros + EXCLUDED.cost_micros;
END
$$;

-- Forgets a request that was admitted but never sent.
CREATE FUNCTION flopex_forget(p_id uuid)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  gone record;
BEGIN
  DELETE FROM key_requests WHERE id = p_id RETURNING key_id, started_at, finished_at INTO gone;
  IF FOUND AND gone.finished_at IS NULL THEN
    UPDATE key_seconds SET started = greatest(started - 1, 0)
      WHERE key_id = gone.key_id
        AND second = floor(extract(epoch FROM gone.started_at))::bigint;
  END IF;
END
$$;
