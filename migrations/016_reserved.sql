-- Placeholder for migration 016, which another branch of issue 12 owns:
-- tern refuses a gap in the numbering, so this branch keeps the sequence
-- whole until that branch is merged. Delete this file when the real
-- 016_*.sql lands (it must not be merged beside it).
SELECT 1;
