-- The retention run deletes ended runners by when they were requested (pool-manager/src/retention.ts);
-- requested_at never changes, so this index does not stop a runner's updates from being HOT.
CREATE INDEX runners_requested_at ON runners (requested_at);
