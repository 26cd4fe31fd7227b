-- Every runner the pool-manager asked for, from request to removal (pools.runners).
CREATE TABLE runners (
  id               text PRIMARY KEY,
  -- rh-<pool>-<short id>: the GitHub runner name and the container name.
  name             text NOT NULL UNIQUE,
  pool             text NOT NULL,
  host             text NOT NULL,
  state            text NOT NULL CHECK (state IN ('requested', 'registered', 'starting', 'idle', 'busy', 'finished', 'removed', 'failed')),
  installation_id  bigint,
  github_runner_id bigint,
  container_id     text,
  -- The job whose demand caused the runner (0 for a warm one); GitHub may hand it another.
  for_job_id       bigint NOT NULL DEFAULT 0,
  job_id           bigint,
  failure          text,
  requested_at     timestamptz NOT NULL DEFAULT now(),
  registered_at    timestamptz,
  started_at       timestamptz,
  busy_at          timestamptz,
  finished_at      timestamptz,
  updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX runners_live ON runners (pool, state) WHERE state NOT IN ('removed', 'failed', 'finished');
