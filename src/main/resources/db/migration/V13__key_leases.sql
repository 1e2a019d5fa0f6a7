-- Leases of a key's limits: each node holds, per key, what its running requests may still use
-- (one slot each, their expected tokens, their worst-case cost) and a spare share that it may
-- hand to new requests without asking until spare_until. Requests a node may begin from its
-- spare are counted as begun when the spare is taken, so the requests of a minute never add
-- up to more than the limit; the slots, tokens and spending a node holds, spare included (the
-- requests it began from the spare run on them), count against the key's limits for every other
-- node until the node's next call replaces them. A node calls again once its spare has expired,
-- and renews its row while it has requests running; a row not renewed for the stale time
-- belonged to a node that stopped. last_report makes a call's report count once when the node
-- sends it again after losing the answer.
--
-- Replaces the per-request rows of key_requests: a busy key costs the database one call per
-- lease, not one per request.
DROP FUNCTION flopex_admit(uuid, uuid[], int, bigint[], bigint[], bigint[]);
DROP FUNCTION flopex_finish(uuid[], bigint[], bigint[]);
DROP FUNCTION flopex_forget(uuid);
DROP TABLE key_requests;

CREATE TABLE key_leases (
  key_id           uuid NOT NULL,
  node             uuid NOT NULL,
  in_flight        integer NOT NULL,
  in_flight_tokens bigint NOT NULL,
  in_flight_micros bigint NOT NULL,
  spare_slots      integer NOT NULL,
  spare_tokens     bigint NOT NULL,
  spare_micros     bigint NOT NULL,
  spare_until      timestamptz NOT NULL,
  renewed_at       timestamptz NOT NULL,
  last_report      uuid,
  PRIMARY KEY (key_id, node)
);

-- One node's call for one key, in one statement with the key's row locked (so the calls of a
-- key on every node queue behind each other for as long as one takes):
-- 1. counts what ended since the node's last call: requests and tokens in the current second,
--    cost on the day each request began; and gives back requests counted as begun that never
--    were (a spare left unused, a request the wallet refused), in the seconds they were counted;
--    a report (p_report) already counted is not counted again;
-- 2. decides the waiting requests one after the other, in the order requests, tokens,
--    concurrency, spending, against what every node holds and what the last minute and the
--    period used, as if each admitted one were already running;
-- 3. grants a spare of at most 1/p_share of what is left of each limit, and no more than the
--    node wished for; -1 means the key has no such limit;
-- 4. writes the node's row: what runs there now, and the spare until p_spare_ms from now.
-- A minute is counted in whole seconds: the 60 seconds that end with the current one; the spare
-- requests count in the next second, when the last of them may begin.
CREATE FUNCTION flopex_lease(p_key uuid, p_node uuid, p_stale_seconds int, p_spare_ms int,
    p_share int, p_report uuid,
    p_ended int, p_ended_tokens bigint, p_ended_days date[], p_ended_costs bigint[],
    p_unstarted_seconds bigint[], p_unstarted bigint[],
    p_in_flight int, p_in_flight_tokens bigint, p_in_flight_micros bigint,
    p_estimates bigint[], p_defaults bigint[], p_worst bigint[],
    p_want_requests bigint, p_want_tokens bigint, p_want_slots bigint, p_want_micros bigint,
    OUT refusals text[], OUT waits bigint[], OUT expected bigint[], OUT recents bigint[],
    OUT useds bigint[], OUT now_second bigint,
    OUT spare_requests bigint, OUT spare_second bigint, OUT spare_tokens bigint,
    OUT spare_slots bigint, OUT spare_micros bigint, OUT average_tokens bigint,
    OUT rpm_limit bigint, OUT recent_requests bigint, OUT requests_free_ms bigint,
    OUT tpm_limit bigint, OUT used_tokens bigint, OUT tokens_free_ms bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  k record;
  w record;
  o record;
  now_ms bigint := floor(extract(epoch FROM now()) * 1000)::bigint;
  now_s bigint := floor(extract(epoch FROM now()))::bigint;
  recent bigint;
  first_started bigint;
  running bigint := p_in_flight;
  running_tokens bigint := p_in_flight_tokens;
  running_micros bigint := p_in_flight_micros;
  period_start timestamptz;
  period_end timestamptz;
  spent bigint := 0;
  guess bigint;
  refused text;
  wait_ms bigint;
  admitted bigint := 0;
  prior uuid;
BEGIN
  -- NO KEY UPDATE: calls for the key exclude each other, foreign-key checks do not wait.
  SELECT a.rpm, a.tpm, a.max_concurrent, a.limit_micros, a.limit_reset INTO k
    FROM api_keys a WHERE a.id = p_key FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no API key %', p_key USING ERRCODE = 'no_data_found';
  END IF;
  SELECT l.last_report INTO prior FROM key_leases l WHERE l.key_id = p_key AND l.node = p_node;
  IF p_report IS NOT NULL AND p_report IS NOT DISTINCT FROM prior THEN
    -- Counted already: the node lost the answer and sent the report again.
    p_ended := 0;
    p_ended_days := '{}';
    p_unstarted_seconds := '{}';
  END IF;
  IF p_ended > 0 THEN
    INSERT INTO key_seconds (key_id, second, finished, tokens)
      VALUES (p_key, now_s, p_ended, p_ended_tokens)
      ON CONFLICT (key_id, second) DO UPDATE SET finished = key_seconds.finished
        + EXCLUDED.finished, tokens = key_seconds.tokens + EXCLUDED.tokens;
  END IF;
  IF coalesce(array_length(p_ended_days, 1), 0) > 0 THEN
    INSERT INTO key_days (key_id, day, cost_micros)
      SELECT p_key, e.day, sum(e.cost)
      FROM unnest(p_ended_days, p_ended_costs) AS e (day, cost) GROUP BY e.day ORDER BY e.day
      ON CONFLICT (key_id, day) DO UPDATE SET
        cost_micros = key_days.cost_micros + EXCLUDED.cost_micros;
  END IF;
  IF coalesce(array_length(p_unstarted_seconds, 1), 0) > 0 THEN
    UPDATE key_seconds s SET started = greatest(s.started - u.n, 0)
      FROM (SELECT x.second, sum(x.n)::integer AS n
            FROM unnest(p_unstarted_seconds, p_unstarted) AS x (second, n) GROUP BY x.second) u
      WHERE s.key_id = p_key AND s.second = u.second;
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
  -- What the other nodes hold: their running requests as of their last call, and their spares
  -- (on which the requests they began since then run).
  SELECT coalesce(sum(l.in_flight), 0)::bigint AS running,
      coalesce(sum(l.in_flight + l.spare_slots), 0)::bigint AS slots,
      coalesce(sum(l.in_flight_tokens + l.spare_tokens), 0)::bigint AS tokens,
      coalesce(sum(l.in_flight_micros + l.spare_micros), 0)::bigint AS micros
    INTO o
    FROM key_leases l
    WHERE l.key_id = p_key AND l.node <> p_node
      AND l.renewed_at > now() - make_interval(secs => p_stale_seconds);
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
    -- What ended costs what it cost; what runs or is spare holds its worst case.
    SELECT coalesce(sum(d.cost_micros), 0)::bigint INTO spent FROM key_days d
      WHERE d.key_id = p_key AND (period_start = '-infinity'::timestamptz
        OR d.day >= (period_start AT TIME ZONE 'UTC')::date);
  END IF;
  average_tokens := CASE WHEN w.finished > 0 THEN w.tokens / w.finished ELSE -1 END;
  refusals := '{}';
  waits := '{}';
  expected := '{}';
  recents := '{}';
  useds := '{}';
  FOR i IN 1 .. coalesce(array_length(p_estimates, 1), 0) LOOP
    guess := CASE WHEN p_estimates[i] >= 0 THEN p_estimates[i]
      WHEN w.finished > 0 THEN w.tokens / w.finished ELSE p_defaults[i] END;
    refused := NULL;
    wait_ms := 0;
    -- A quiet minute lets one request through whatever it may use; after that, what finished,
    -- what runs or is held and what this one may use must fit.
    IF k.rpm IS NOT NULL AND recent >= k.rpm THEN
      refused := 'REQUESTS';
      wait_ms := greatest((first_started + 60) * 1000 - now_ms, 1);
    ELSIF k.tpm IS NOT NULL AND NOT (w.tokens = 0 AND o.running + running = 0 AND o.tokens = 0)
        AND w.tokens + o.tokens + running_tokens + guess > k.tpm THEN
      refused := 'TOKENS';
      wait_ms := greatest(coalesce((w.first_finished + 60) * 1000 - now_ms, 0), 1);
    ELSIF k.max_concurrent IS NOT NULL AND o.slots + running >= k.max_concurrent THEN
      refused := 'CONCURRENCY';
      wait_ms := 1000;
    ELSIF k.limit_micros IS NOT NULL
        AND spent + o.micros + running_micros + p_worst[i] > k.limit_micros THEN
      refused := 'CREDIT';
      wait_ms := greatest(0, coalesce(floor(extract(epoch FROM period_end - now()) * 1000), 0))
        ::bigint;
    END IF;
    refusals := refusals || refused;
    waits := waits || wait_ms;
    expected := expected || guess;
    recents := recents || recent;
    useds := useds || (w.tokens + o.tokens + running_tokens);
    IF refused IS NULL THEN
      recent := recent + 1;
      first_started := coalesce(first_started, now_s);
      running := running + 1;
      running_tokens := running_tokens + guess;
      running_micros := running_micros + p_worst[i];
      admitted := admitted + 1;
    END IF;
  END LOOP;
  IF admitted > 0 THEN
    INSERT INTO key_seconds (key_id, second, started) VALUES (p_key, now_s, admitted)
      ON CONFLICT (key_id, second) DO UPDATE SET started = key_seconds.started + EXCLUDED.started;
  END IF;

  spare_requests := CASE WHEN k.rpm IS NULL THEN -1
    ELSE least(p_want_requests, greatest(k.rpm - recent, 0) / p_share) END;
  spare_tokens := CASE WHEN k.tpm IS NULL THEN -1
    ELSE least(p_want_tokens, greatest(k.tpm - w.tokens - o.tokens - running_tokens, 0)
      / p_share) END;
  spare_slots := CASE WHEN k.max_concurrent IS NULL THEN -1
    ELSE least(p_want_slots, greatest(k.max_concurrent - o.slots - running, 0) / p_share) END;
  spare_micros := CASE WHEN k.limit_micros IS NULL THEN -1
    ELSE least(p_want_micros, greatest(k.limit_micros - spent - o.micros - running_micros, 0)
      / p_share) END;
  spare_second := 0;
  IF spare_requests > 0 THEN
    spare_second := now_s + 1;
    INSERT INTO key_seconds (key_id, second, started) VALUES (p_key, spare_second, spare_requests)
      ON CONFLICT (key_id, second) DO UPDATE SET started = key_seconds.started + EXCLUDED.started;
  END IF;
  -- The row stays when it holds nothing, for last_report; retention removes rows of nodes that
  -- stopped.
  INSERT INTO key_leases AS l (key_id, node, in_flight, in_flight_tokens, in_flight_micros,
      spare_slots, spare_tokens, spare_micros, spare_until, renewed_at, last_report)
    VALUES (p_key, p_node, running, running_tokens, running_micros, greatest(spare_slots, 0),
      greatest(spare_tokens, 0), greatest(spare_micros, 0),
      now() + make_interval(secs => p_spare_ms / 1000.0), now(), coalesce(p_report, prior))
    ON CONFLICT (key_id, node) DO UPDATE SET in_flight = EXCLUDED.in_flight,
      in_flight_tokens = EXCLUDED.in_flight_tokens, in_flight_micros = EXCLUDED.in_flight_micros,
      spare_slots = EXCLUDED.spare_slots, spare_tokens = EXCLUDED.spare_tokens,
      spare_micros = EXCLUDED.spare_micros, spare_until = EXCLUDED.spare_until,
      renewed_at = EXCLUDED.renewed_at, last_report = EXCLUDED.last_report;

  now_second := now_s;
  rpm_limit := coalesce(k.rpm, 0);
  recent_requests := recent;
  requests_free_ms := greatest(0, coalesce((first_started + 60) * 1000 - now_ms, 0));
  tpm_limit := coalesce(k.tpm, 0);
  used_tokens := w.tokens + o.tokens + running_tokens;
  tokens_free_ms := greatest(0, coalesce((w.first_finished + 60) * 1000 - now_ms, 0));
END
$$;
