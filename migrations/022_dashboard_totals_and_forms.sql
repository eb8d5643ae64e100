-- Issue 12: the Overview (GET /dashboard/overview) reads per-account
-- totals instead of summing every plan's rows, so it answers in the same
-- time at 100,000 plans as at 100. The plan projection keeps them in the
-- same statement as the plan's row (projections.upsertSQL), as deltas of
-- each plan's own rows:
--   plan_week_amounts        (migration 019) gains due_change/paid_change:
--                            what its last write added, taken from the row
--                            it replaced (ON CONFLICT ... DO UPDATE sees the
--                            latest committed row, so concurrent writers of
--                            one plan never lose or double a delta)
--   plan_status_amounts      one row per plan: its status, currency, what
--                            it still owes and, once completed, the days
--                            from creation to completion; prev_* are the
--                            values its last write replaced
--   account_week_totals      per account, week, currency: due and paid
--   account_status_totals    per account, status, currency: plans, owed
--   account_completion_totals per account and days to completion: plans
-- No total is a single hot row: each is split into 32 stripes by a hash
-- of the plan id (the shard column), which the page sums, so projection
-- writers of one account rarely wait on each other. `goodplan replay
-- --swap` recomputes all of them from the swapped plan rows.
ALTER TABLE plan_week_amounts
    ADD COLUMN due_change  numeric NOT NULL DEFAULT 0,
    ADD COLUMN paid_change numeric NOT NULL DEFAULT 0;

CREATE TABLE plan_status_amounts (
    plan_id          bigint  PRIMARY KEY,
    account_id       bigint  NOT NULL,
    status           text    NOT NULL,
    currency         text    NOT NULL,
    outstanding      numeric NOT NULL,
    done_days        integer,
    prev_status      text,
    prev_currency    text,
    prev_outstanding numeric,
    prev_done_days   integer
);

CREATE TABLE account_week_totals (
    account_id bigint   NOT NULL,
    week       date     NOT NULL,
    currency   text     NOT NULL,
    shard      smallint NOT NULL,
    due        numeric  NOT NULL,
    paid       numeric  NOT NULL,
    PRIMARY KEY (account_id, week, currency, shard)
);

CREATE TABLE account_status_totals (
    account_id  bigint   NOT NULL,
    status      text     NOT NULL,
    currency    text     NOT NULL,
    shard       smallint NOT NULL,
    plans       bigint   NOT NULL,
    outstanding numeric  NOT NULL,
    PRIMARY KEY (account_id, status, currency, shard)
);

CREATE TABLE account_completion_totals (
    account_id bigint   NOT NULL,
    days       integer  NOT NULL,
    shard      smallint NOT NULL,
    plans      bigint   NOT NULL,
    PRIMARY KEY (account_id, days, shard)
);

-- The same fill as projections.refillTotalsSQL (replay's swap).
INSERT INTO plan_status_amounts (plan_id, account_id, status, currency, outstanding, done_days)
SELECT plan_id, account_id, status, currency, amount_outstanding,
    CASE WHEN status = 'completed' AND completed_at IS NOT NULL
        THEN (completed_at AT TIME ZONE 'UTC')::date - (created_at AT TIME ZONE 'UTC')::date END
FROM plan_views;
INSERT INTO account_week_totals (account_id, week, currency, shard, due, paid)
SELECT account_id, week, currency, hashint8(plan_id) & 31, sum(due), sum(paid) FROM plan_week_amounts GROUP BY 1, 2, 3, 4;
INSERT INTO account_status_totals (account_id, status, currency, shard, plans, outstanding)
SELECT account_id, status, currency, hashint8(plan_id) & 31, count(*), sum(outstanding) FROM plan_status_amounts GROUP BY 1, 2, 3, 4;
INSERT INTO account_completion_totals (account_id, days, shard, plans)
SELECT account_id, done_days, hashint8(plan_id) & 31, count(*) FROM plan_status_amounts WHERE done_days IS NOT NULL GROUP BY 1, 2, 3;

-- Issue 12: a dashboard form submitted twice (a double click, a resend
-- after a slow answer) makes one API key or webhook endpoint. The form's
-- form_id (a random hidden field) is kept with what it made; a second
-- submit of the same form finds it and makes nothing.
ALTER TABLE api_keys ADD COLUMN form_id text;
CREATE UNIQUE INDEX api_keys_form_id_idx ON api_keys (account_id, form_id) WHERE form_id IS NOT NULL;
ALTER TABLE webhook_endpoints ADD COLUMN form_id text;
-- The rotate-secret form's form_id of the endpoint's last rotation: the
-- same form sent twice rotates once (twice would end the secret the
-- receiver still uses at once).
ALTER TABLE webhook_endpoints ADD COLUMN rotate_form_id text;
CREATE UNIQUE INDEX webhook_endpoints_form_id_idx ON webhook_endpoints (account_id, form_id) WHERE form_id IS NOT NULL;
