-- Issue 12: the Overview's weekly "collected vs fell due" chart reads this
-- narrow read model instead of every plan's wide plan_views row: one row
-- per plan, week (the Monday, UTC) and currency with what fell due that
-- week (the chosen schedule's installments) and what was paid (confirmed
-- payments by payment date). The plan projection writes it in the same
-- statement as the plan's row (projections.upsertSQL), only when the
-- plan's due/paid columns changed; `goodplan replay` rebuilds, compares
-- and swaps it with plan_views. Existing rows are filled from plan_views'
-- due_on/due_amount/paid_on/paid_amount arrays (migration 015).
CREATE TABLE plan_week_amounts (
    account_id bigint  NOT NULL,
    plan_id    bigint  NOT NULL,
    currency   text    NOT NULL,
    week       date    NOT NULL,
    due        numeric NOT NULL,
    paid       numeric NOT NULL,
    PRIMARY KEY (plan_id, week, currency)
);
CREATE INDEX plan_week_amounts_account_week_idx ON plan_week_amounts (account_id, week)
    INCLUDE (currency, due, paid);

INSERT INTO plan_week_amounts (account_id, plan_id, currency, week, due, paid)
SELECT v.account_id, v.plan_id, v.currency, date_trunc('week', c.d)::date, sum(c.due), sum(c.paid)
FROM plan_views v CROSS JOIN LATERAL (
    SELECT d, a AS due, 0::numeric AS paid FROM unnest(v.due_on, v.due_amount) AS u(d, a)
    UNION ALL SELECT d, 0::numeric, a FROM unnest(v.paid_on, v.paid_amount) AS u(d, a)) c
GROUP BY v.account_id, v.plan_id, v.currency, date_trunc('week', c.d)::date;
