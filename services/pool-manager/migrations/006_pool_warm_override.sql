-- An operator's warm minimum for a pool (`runnerhub pool warm`, `runnerhub provision`): held instead
-- of the pool's minIdle and warm schedules until warm_until (for ever when NULL), or until cleared.
-- Kept across file reloads and restarts, like drained.
ALTER TABLE pools ADD COLUMN warm_min integer CHECK (warm_min >= 0), ADD COLUMN warm_until timestamptz;
