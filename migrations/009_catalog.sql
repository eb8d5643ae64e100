-- Issue 11: the catalog's native API.

-- Public ids of catalog plans, reserved in the same statement as the
-- append that creates the plan (eventstore.WithCatalogPlanID) and released
-- by the one that deletes it (eventstore.WithCatalogPlanRelease): at most
-- one plan not deleted holds a public id in an account, and a deleted
-- plan's id may be given to a new one.
CREATE TABLE catalog_plan_ids (
    account_id      bigint      NOT NULL,
    public_id       text        NOT NULL,
    catalog_plan_id bigint      NOT NULL PRIMARY KEY,
    reserved_at     timestamptz NOT NULL,
    released_at     timestamptz
);

CREATE UNIQUE INDEX catalog_plan_ids_live_key ON catalog_plan_ids (account_id, public_id)
    WHERE released_at IS NULL;
CREATE INDEX catalog_plan_ids_public_idx ON catalog_plan_ids (account_id, public_id, reserved_at DESC);

-- The catalog plan read model (projections.CatalogPlans): one row per plan,
-- folded up to version; plan is the API's object, as json (not jsonb) so
-- that the tax object keeps the key order and spacing it was given in.
CREATE TABLE catalog_plan_views (
    catalog_plan_id bigint      PRIMARY KEY,
    account_id      bigint      NOT NULL,
    public_id       text        NOT NULL,
    version         bigint      NOT NULL,
    currency        text        NOT NULL,
    interval        text        NOT NULL,
    active          boolean     NOT NULL,
    plan            json        NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    deleted_at      timestamptz
);

-- Lists: an account's plans not deleted, newest first (the cursor is the
-- internal id, which grows with creation), and by updated_at.
CREATE INDEX catalog_plan_views_list_idx ON catalog_plan_views (account_id, catalog_plan_id DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX catalog_plan_views_updated_idx ON catalog_plan_views (account_id, updated_at)
    WHERE deleted_at IS NULL;
CREATE INDEX catalog_plan_views_public_idx ON catalog_plan_views (account_id, public_id);
