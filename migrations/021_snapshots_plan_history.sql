-- Issue 13 item 6 (assigned number 022; numbered 020 on its branch because
-- tern refuses gaps, renumbered at merge): cost that does not grow with a
-- plan's age.
--
-- snapshots: the command path's cache of an aggregate's folded state, one
-- row per stream, so a command restores the aggregate and folds only the
-- events after it (eventstore/snapshots.go). schema is the aggregate's
-- snapshot schema (domain.PlanSnapshotSchema): a row of another schema is
-- ignored, never misread. Never the truth: replay and verify read only the
-- events, and a missing, stale or unreadable row means a full fold.
CREATE TABLE snapshots (
    stream_id text        PRIMARY KEY,
    version   bigint      NOT NULL CHECK (version > 0),
    schema    integer     NOT NULL,
    state     bytea       NOT NULL,
    taken_at  timestamptz NOT NULL DEFAULT now()
);

-- The plan's history (one entry per event) leaves the read model's row:
-- it grew with every event and was rewritten whole on each. It is read a
-- page at a time from the events (GET /api/v1/plans/{id}/events, by the
-- events_stream_version_key index), and `extended` is kept by the plan
-- itself (domain.Plan.Extended).
ALTER TABLE plan_views DROP COLUMN history;
