-- Issue 14: rate limits that hold across replicas. Every replica decides a
-- limited request with one call of rate_take, which locks the key's row,
-- so the exact sliding windows of api/ratelimit.go (never more than the
-- per-minute limit accepted in any rolling minute, nor the burst in any
-- rolling second) hold for the whole cluster.
--
-- UNLOGGED: no WAL per request; after a PostgreSQL crash the windows start
-- empty (a clean restart keeps them). Only allowed requests are remembered:
-- ts holds their times, oldest first, at most the per-minute limit, all in
-- the last minute. until is when the row stops mattering (the newest time
-- plus a minute), for the sweep of idle rows. fillfactor leaves room for
-- HOT updates (no index covers ts or until).
CREATE UNLOGGED TABLE rate_windows (
    scope text        NOT NULL,
    key   bytea       NOT NULL,
    ts    timestamptz[] NOT NULL,
    until timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
) WITH (fillfactor = 50);

-- rate_take decides one request of (p_scope, p_key) under p_per_minute
-- (> 0) and p_burst (<= 0: no per-second cap) at p_now (NULL: this
-- server's clock, read once the row is locked, so every replica's times
-- come from one clock and enter the ring in order). With p_count it counts
-- an allowed request; without, it only tells (a peek, no lock, no write).
-- It returns whether the request is allowed, the requests left in the
-- minute window, when the newest allowed request leaves it (reset_at;
-- p_now if none) and, when refused, how long until a request would be
-- allowed, in microseconds.
CREATE FUNCTION rate_take(p_scope text, p_key bytea, p_per_minute int, p_burst int, p_count bool, p_now timestamptz,
    OUT allowed bool, OUT remaining int, OUT reset_at timestamptz, OUT retry_us bigint)
LANGUAGE plpgsql AS $$
DECLARE
    t      timestamptz[];
    now_   timestamptz;
    n      int;
    before int;
    first  int;
    second_full bool;
    at     timestamptz;
BEGIN
    IF p_count THEN
        SELECT w.ts INTO t FROM rate_windows w WHERE w.scope = p_scope AND w.key = p_key FOR UPDATE;
        IF NOT FOUND THEN
            -- The first request of the key (or the first after a sweep):
            -- create the row, or wait for the one a concurrent caller
            -- creates, and lock it.
            INSERT INTO rate_windows (scope, key, ts, until) VALUES (p_scope, p_key, '{}', '-infinity')
                ON CONFLICT DO NOTHING;
            SELECT w.ts INTO t FROM rate_windows w WHERE w.scope = p_scope AND w.key = p_key FOR UPDATE;
        END IF;
    ELSE
        SELECT w.ts INTO t FROM rate_windows w WHERE w.scope = p_scope AND w.key = p_key;
    END IF;
    t := coalesce(t, '{}');
    before := cardinality(t);
    now_ := coalesce(p_now, clock_timestamp());
    IF before > 0 AND t[before] > now_ THEN
        -- A clock step back: count this request as no older than the
        -- newest, which only makes the windows stricter.
        now_ := t[before];
    END IF;
    -- Drop the times that left the minute, and any beyond a per-minute
    -- limit lowered since the key was last seen.
    -- t is sorted: skip its head (no query, at most the limit's steps).
    first := greatest(before - p_per_minute + 1, 1);
    WHILE first <= before AND t[first] <= now_ - interval '1 minute' LOOP
        first := first + 1;
    END LOOP;
    IF first > 1 THEN
        t := t[first : before];
    END IF;
    n := before - first + 1;
    -- The last second holds p_burst requests iff the p_burst-th newest does.
    second_full := p_burst > 0 AND n >= p_burst AND now_ - t[n - p_burst + 1] < interval '1 second';
    allowed := n < p_per_minute AND NOT second_full;
    IF allowed THEN
        IF p_count THEN
            t := t || now_;
            n := n + 1;
        END IF;
    ELSE
        -- Both counts only fall as time passes, so the request becomes
        -- allowed when the later of the two windows frees a slot.
        at := now_;
        IF n >= p_per_minute THEN
            at := greatest(at, t[n - p_per_minute + 1] + interval '1 minute');
        END IF;
        IF second_full THEN
            at := greatest(at, t[n - p_burst + 1] + interval '1 second');
        END IF;
        retry_us := (extract(epoch FROM at - now_) * 1000000)::bigint;
    END IF;
    IF p_count AND (allowed OR n <> before) THEN
        UPDATE rate_windows w SET ts = t, until = coalesce(t[n], now_) + interval '1 minute'
            WHERE w.scope = p_scope AND w.key = p_key;
    END IF;
    remaining := greatest(p_per_minute - n, 0);
    reset_at := CASE WHEN n > 0 THEN t[n] + interval '1 minute' ELSE now_ END;
END
$$;
