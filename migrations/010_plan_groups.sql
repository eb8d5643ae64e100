-- Issue 11: the plan groups read model (projections.PlanGroups): one row
-- per group, folded up to version. members is the group's members as the
-- events record them (catalog plans by internal id, payment plans by id),
-- resolved against the catalog read model when read.
CREATE TABLE plan_group_views (
    plan_group_id bigint      PRIMARY KEY,
    account_id    bigint      NOT NULL,
    public_id     uuid        NOT NULL,
    name          text        NOT NULL,
    members       json        NOT NULL,
    version       bigint      NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    deleted_at    timestamptz
);

-- Lists: an account's groups not deleted, newest first (the cursor is the
-- internal id, which grows with creation); reads by public id.
CREATE INDEX plan_group_views_list_idx ON plan_group_views (account_id, plan_group_id DESC)
    WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX plan_group_views_public_key ON plan_group_views (account_id, public_id);
