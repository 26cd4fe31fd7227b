-- The reconcile pass counts runners that finished since the last demand snapshot arrived (see
-- sizing.ts): without this index that count would read every finished runner of the pool's history.
CREATE INDEX runners_recently_finished ON runners (pool, finished_at) WHERE state = 'finished';
