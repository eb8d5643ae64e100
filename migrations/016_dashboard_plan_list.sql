-- Issue 12: the dashboard's plan list (GET /dashboard/plans) and its CSV
-- exports, newest first by plan id, paged by keyset (?after= / ?before=
-- a plan id), at 100,000 plans in one account:
--   plan_views_account_id_idx         every plan of the account
--   plan_views_account_status_id_idx  one status
--   plan_views_email_idx              search: the customer's email, equal
--                                     in any letter case
--   plan_views_invoice_number_idx     search: the invoice number, equal in
--                                     any letter case
--   plan_views_name_trgm_idx          search: a part of the customer's
--                                     name, in any letter case (pg_trgm,
--                                     a trusted extension since PostgreSQL
--                                     13: the database's owner may create it)
-- The two equality indexes end in plan_id DESC so a search is paged by the
-- index alone; the name's trigram index finds the rows, which the planner
-- then sorts (a name matches few plans).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX plan_views_account_id_idx ON plan_views (account_id, plan_id DESC);
CREATE INDEX plan_views_account_status_id_idx ON plan_views (account_id, status, plan_id DESC);
CREATE INDEX plan_views_email_idx ON plan_views (account_id, lower(customer->>'email'), plan_id DESC);
CREATE INDEX plan_views_invoice_number_idx ON plan_views (account_id, lower(invoice->>'invoice_number'), plan_id DESC);
-- fastupdate off: without it, new entries wait in the index's pending
-- list (up to gin_pending_list_limit, 4 MB) until a vacuum, and every
-- search reads the whole list (17 ms a search at 100,000 plans).
CREATE INDEX plan_views_name_trgm_idx ON plan_views USING gin (lower(customer->>'name') gin_trgm_ops)
    WITH (fastupdate = off);
