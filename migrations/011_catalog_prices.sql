-- Issue 11: the prices of the catalog (Paygentic's price objects).

-- Every price of an account, written in the same statement as the append
-- of the catalog_plan.created event that mints it as the plan's standard
-- price (eventstore.WithCatalogPrice), so a price is here exactly when its
-- event is stored, from the moment its create returns. Prices never change
-- and are never removed (they outlive the plan that minted them): the
-- command that attaches one checks it here before deciding, and nothing
-- can make that check stale.
CREATE TABLE catalog_prices (
    price_id        text        PRIMARY KEY,
    account_id      bigint      NOT NULL,
    catalog_plan_id bigint      NOT NULL,
    unit_amount     numeric     NOT NULL,
    currency        text        NOT NULL,
    created_at      timestamptz NOT NULL
);

CREATE INDEX catalog_prices_account_idx ON catalog_prices (account_id, price_id);
