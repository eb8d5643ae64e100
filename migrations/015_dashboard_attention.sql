-- Issue 12: the dashboard's "Needs attention" and "Overview" pages read
-- these plain columns of plan_views (filled by the projection from the
-- folded plan, rebuilt and compared by `goodplan replay` like every other
-- column; they depend on the plan's events only, never on the clock):
--   reported_since    the earliest report time of a payment that awaits
--                     the merchant's confirmation (NULL: none)
--   proposal_since    when the open proposal that awaits the merchant's
--                     answer was made (NULL: none)
--   open_due_on       an active plan's earliest due date still waiting
--                     for money (overdue once it is before today)
--   checkin_since     when the check-in reminder of a still-open
--                     installment was requested: the check-in went three
--                     days without an answer (NULL: none)
--   due_on/due_amount the chosen schedule's installments (due date, amount)
--   paid_on/paid_amount the confirmed payments (payment date, amount applied)
--   cash_from/cash_to the earliest and latest of those dates
-- Existing rows keep the defaults until `goodplan replay --swap` rewrites
-- them (replay reports every row whose columns differ).
ALTER TABLE plan_views
    ADD COLUMN reported_since timestamptz,
    ADD COLUMN proposal_since timestamptz,
    ADD COLUMN open_due_on    date,
    ADD COLUMN checkin_since  timestamptz,
    ADD COLUMN due_on         date[]    NOT NULL DEFAULT '{}',
    ADD COLUMN due_amount     numeric[] NOT NULL DEFAULT '{}',
    ADD COLUMN paid_on        date[]    NOT NULL DEFAULT '{}',
    ADD COLUMN paid_amount    numeric[] NOT NULL DEFAULT '{}',
    ADD COLUMN cash_from      date,
    ADD COLUMN cash_to        date;

-- Needs attention: one partial index per kind, so each list (oldest first,
-- 50 rows) and its count read only the plans in that state.
CREATE INDEX plan_views_attention_reported_idx ON plan_views (account_id, reported_since, plan_id)
    WHERE reported_since IS NOT NULL;
CREATE INDEX plan_views_attention_proposal_idx ON plan_views (account_id, proposal_since, plan_id)
    WHERE proposal_since IS NOT NULL;
CREATE INDEX plan_views_attention_overdue_idx ON plan_views (account_id, open_due_on, plan_id)
    WHERE open_due_on IS NOT NULL;
CREATE INDEX plan_views_attention_checkin_idx ON plan_views (account_id, checkin_since, plan_id)
    WHERE checkin_since IS NOT NULL;

-- Overview: the plans with money due or paid in a window; plans and
-- outstanding by status and currency from the index alone; the completed
-- plans' days to completion.
CREATE INDEX plan_views_cash_idx ON plan_views (account_id, cash_to) WHERE cash_to IS NOT NULL;
CREATE INDEX plan_views_outstanding_idx ON plan_views (account_id, status, currency) INCLUDE (amount_outstanding);
CREATE INDEX plan_views_completed_idx ON plan_views (account_id) INCLUDE (created_at, completed_at)
    WHERE status = 'completed';

-- Failing webhook endpoints: an endpoint's deliveries that failed or are
-- being retried, newest first.
CREATE INDEX webhook_deliveries_failing_idx ON webhook_deliveries (endpoint_id, updated_at DESC)
    WHERE state = 'failed' OR (state = 'pending' AND attempts > 0);
