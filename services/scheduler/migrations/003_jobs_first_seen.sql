-- The retention run deletes completed jobs by when they were first seen (scheduler/src/retention.ts);
-- first_seen_at never changes, so this index does not stop a job's updates from being HOT.
CREATE INDEX jobs_first_seen ON jobs (first_seen_at);
