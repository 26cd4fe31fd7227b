-- Every reconcile pass (one per demand snapshot, up to ten a second) reads the failures of the
-- backoff window: without this index that read went through every runner the table ever held.
CREATE INDEX runners_recent_failures ON runners (updated_at) WHERE state = 'failed';
