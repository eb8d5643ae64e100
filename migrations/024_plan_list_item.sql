-- GET /api/v1/plans at a million plans (issue 13 item 4): each plan_views
-- row also holds its list item's JSON, so a page writes stored bytes
-- instead of decoding the jsonb columns and encoding them again (see
-- projections/list_item.go). bytea, not jsonb: the exact bytes the API
-- answers, which jsonb would not keep (it reorders keys), and nothing to
-- parse on write. The item after its customer_portal_url (which depends
-- on the server's PUBLIC_URL). NULL for rows written before this
-- migration: the list renders those from the other columns until the
-- plan's next event or `goodplan replay --swap` writes it.
ALTER TABLE plan_views ADD COLUMN list_item bytea;
