-- Issue 11: what the plan group report (GET /api/v1/plan-groups/{id}/report)
-- reads of each payment plan, as plain columns of plan_views (filled by the
-- projection, rebuilt and compared by replay like every other column):
--   currency            the invoice's ISO 4217 code
--   amount_total        the amount owed (the invoice amount)
--   amount_paid         confirmed payments applied to the ledger
--   amount_reported     payments reported and not confirmed yet
--   amount_outstanding  amount_total - amount_paid
--   completed_at        when the plan was paid off (NULL: it was not)
--   extended            an installment's due date was ever moved (an
--                       extension granted or an installment deferred)
--   proposed            the customer ever proposed a schedule
ALTER TABLE plan_views
    ADD COLUMN currency           text    NOT NULL DEFAULT '',
    ADD COLUMN amount_total       numeric NOT NULL DEFAULT 0,
    ADD COLUMN amount_paid        numeric NOT NULL DEFAULT 0,
    ADD COLUMN amount_reported    numeric NOT NULL DEFAULT 0,
    ADD COLUMN amount_outstanding numeric NOT NULL DEFAULT 0,
    ADD COLUMN completed_at       timestamptz,
    ADD COLUMN extended           boolean NOT NULL DEFAULT false,
    ADD COLUMN proposed           boolean NOT NULL DEFAULT false;

-- Existing rows, from what they already hold (the same values the
-- projection computes; `goodplan replay` compares them and --swap rewrites
-- any row that differs).
UPDATE plan_views SET
    currency           = coalesce(invoice->>'currency', ''),
    amount_total       = coalesce((invoice->>'amount')::numeric, 0),
    amount_paid        = coalesce((lifecycle->'ledger'->>'paid')::numeric, 0),
    amount_reported    = coalesce((lifecycle->'ledger'->>'reported')::numeric, 0),
    amount_outstanding = coalesce((lifecycle->'ledger'->>'outstanding')::numeric, (invoice->>'amount')::numeric, 0),
    completed_at       = (lifecycle->>'completed_at')::timestamptz,
    extended           = history @> '[{"type":"installment.extension_granted"}]'
                         OR history @> '[{"type":"installment.deferred"}]',
    proposed           = coalesce(jsonb_array_length(lifecycle->'proposals'), 0) > 0;
