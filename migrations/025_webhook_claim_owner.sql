-- Issue 14 item 4: a webhook in flight at a replica's SIGKILL was sent
-- again only when its 40 s lease ran out. A claim now records its owner
-- (claimed_by: the deliverer's random id; claimed_at: the claim's
-- database time). Each deliverer holds the session-level advisory lock
-- hashtextextended('webhook-owner:' || owner, 0) for its lifetime, on its
-- process's lock session. A killed process's sessions close at once, so
-- its lock is gone: once another deliverer has seen it missing for a
-- grace (eventstore.Deliveries.TakeOverDeliveries), the dead owner's
-- claims made before it went missing are made due again. Both columns are
-- NULL when the delivery is not claimed (finished, due, or waiting for
-- its next attempt).
ALTER TABLE webhook_deliveries ADD COLUMN claimed_by uuid, ADD COLUMN claimed_at timestamptz;

-- The owners of claims in flight: few rows (what the deliverers hold).
CREATE INDEX webhook_deliveries_claimed_by_idx ON webhook_deliveries (claimed_by)
    WHERE claimed_by IS NOT NULL AND state = 'pending';

-- When a deliverer that holds claims was first seen without its lock (and
-- still is). A row is removed as soon as its owner's lock is seen again or
-- the owner holds no claim. UNLOGGED: after a PostgreSQL crash the
-- absences start over, which only delays a takeover by one grace.
CREATE UNLOGGED TABLE webhook_owner_absences (
    owner uuid        PRIMARY KEY,
    since timestamptz NOT NULL
);
