-- The priority class a job got from the scheduling rules when it was first seen.
ALTER TABLE jobs ADD COLUMN priority text NOT NULL DEFAULT 'normal' CHECK (priority IN ('critical', 'high', 'normal', 'low'));
-- How the scheduler first heard of the job: a webhook, or the missed-job reconciler asking GitHub.
ALTER TABLE jobs ADD COLUMN found_by text NOT NULL DEFAULT 'webhook' CHECK (found_by IN ('webhook', 'reconciler'));
-- When GitHub was last asked about a pending job (the reconciler spreads its questions over cycles).
ALTER TABLE jobs ADD COLUMN checked_at timestamptz;
