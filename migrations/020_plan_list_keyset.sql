-- GET /api/v1/plans at a million plans (issue 13 item 4): total_items from
-- counts kept in the projection's transaction, and an index per search.

-- plan_counts holds signed deltas of the number of plan_views rows per
-- (account, status): the sum of n over an (account, status) is its count.
-- Rows are only ever inserted by the triggers below (no row is updated in
-- place), so concurrent projection transactions never wait on each other
-- for a counter row and cannot deadlock on one; readers fold the deltas
-- of an account into one row per status from time to time (compaction, a
-- single DELETE ... RETURNING feeding an INSERT).
CREATE TABLE plan_counts (
    account_id bigint NOT NULL,
    status     text   NOT NULL,
    n          bigint NOT NULL
);
CREATE INDEX plan_counts_account_status_idx ON plan_counts (account_id, status) INCLUDE (n);

-- plan_views_count records the row's change of (account, status): +1 for
-- an inserted row, -1 for a deleted one, both for an update that moved it.
-- The projection's upsert leaves a row alone when it is already at the
-- event's version (no UPDATE, so no trigger): redelivery counts nothing.
CREATE FUNCTION plan_views_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO plan_counts (account_id, status, n) VALUES (NEW.account_id, NEW.status, 1);
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO plan_counts (account_id, status, n)
            VALUES (OLD.account_id, OLD.status, -1), (NEW.account_id, NEW.status, 1);
    ELSE
        INSERT INTO plan_counts (account_id, status, n) VALUES (OLD.account_id, OLD.status, -1);
    END IF;
    RETURN NULL;
END;
$$;

CREATE FUNCTION plan_views_count_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM plan_counts;
    RETURN NULL;
END;
$$;

CREATE TRIGGER plan_views_count_insert AFTER INSERT ON plan_views
    FOR EACH ROW EXECUTE FUNCTION plan_views_count();
CREATE TRIGGER plan_views_count_update AFTER UPDATE OF account_id, status ON plan_views
    FOR EACH ROW WHEN (OLD.account_id IS DISTINCT FROM NEW.account_id OR OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION plan_views_count();
CREATE TRIGGER plan_views_count_delete AFTER DELETE ON plan_views
    FOR EACH ROW EXECUTE FUNCTION plan_views_count();
CREATE TRIGGER plan_views_count_truncate AFTER TRUNCATE ON plan_views
    FOR EACH STATEMENT EXECUTE FUNCTION plan_views_count_truncate();

INSERT INTO plan_counts (account_id, status, n)
SELECT account_id, status, count(*) FROM plan_views GROUP BY account_id, status;

-- ?customer_name= is a prefix of the customer's name in any letter case:
-- a btree range with text_pattern_ops (LIKE 'abc%' under any collation).
-- ?email= and ?invoice_number= use migration 016's indexes.
CREATE INDEX plan_views_name_prefix_idx ON plan_views (account_id, lower(customer->>'name') text_pattern_ops);
