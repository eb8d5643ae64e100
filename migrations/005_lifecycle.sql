-- Issue 4: the plan lifecycle in the read model, per-account reminder lead,
-- and the instance secret the portal signs its forms with.

-- lifecycle: schedule with installment statuses, ledger totals, payments,
-- proposals, consent, notices and lifecycle times (projections.Lifecycle);
-- history: one entry per event (version, type, actor, time).
ALTER TABLE plan_views
    ADD COLUMN lifecycle       jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN history         jsonb NOT NULL DEFAULT '[]',
    -- When the scheduler may next have something to do for the plan
    -- (domain.Plan.Wake): wake_at does not depend on the account's reminder
    -- lead; due_reminder_on is a due date that still gets a reminder
    -- reminder_days before it. Both NULL: nothing scheduled.
    ADD COLUMN wake_at         timestamptz,
    ADD COLUMN due_reminder_on date;

CREATE INDEX plan_views_wake_idx ON plan_views (wake_at) WHERE wake_at IS NOT NULL;
CREATE INDEX plan_views_due_reminder_idx ON plan_views (due_reminder_on) WHERE due_reminder_on IS NOT NULL;

-- Days before each due date the customer is reminded (0: no reminder).
ALTER TABLE accounts ADD COLUMN reminder_days integer NOT NULL DEFAULT 3
    CHECK (reminder_days BETWEEN 0 AND 30);

-- Secrets shared by every replica of one installation (the portal's form
-- signing key), created once on first use.
CREATE TABLE instance_secrets (
    name       text PRIMARY KEY,
    secret     bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
