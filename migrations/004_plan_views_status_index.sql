-- GET /api/v1/plans?status=...: the page is found in the index alone.
CREATE INDEX plan_views_account_status_created_idx ON plan_views (account_id, status, created_at DESC, plan_id DESC);
