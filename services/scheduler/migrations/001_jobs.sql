-- One row per GitHub job (workflow_job.id), folded from workflow_job events in any order.
CREATE TABLE jobs (
  job_id          bigint PRIMARY KEY,
  run_id          bigint NOT NULL,
  run_attempt     integer NOT NULL DEFAULT 1,
  installation_id bigint,
  repo_owner      text NOT NULL DEFAULT '',
  repo_name       text NOT NULL DEFAULT '',
  organization    text NOT NULL DEFAULT '',
  workflow_name   text NOT NULL DEFAULT '',
  job_name        text NOT NULL DEFAULT '',
  labels          text[] NOT NULL DEFAULT '{}',
  head_sha        text NOT NULL DEFAULT '',
  head_branch     text NOT NULL DEFAULT '',
  html_url        text NOT NULL DEFAULT '',
  status          text NOT NULL,
  conclusion      text,
  runner_id       bigint,
  runner_name     text,
  -- matched: waits for `pool`; unmatched: no pool can serve it; not_ours: GitHub-hosted labels.
  match           text NOT NULL CHECK (match IN ('matched', 'unmatched', 'not_ours')),
  pool            text,
  match_detail    text,
  created_at      timestamptz,
  started_at      timestamptz,
  completed_at    timestamptz,
  first_seen_at   timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_pending ON jobs (pool, created_at) WHERE status NOT IN ('in_progress', 'completed');
CREATE INDEX jobs_repo ON jobs (repo_owner, repo_name, first_seen_at DESC);

-- The time of every transition, for "what happened to my job".
CREATE TABLE job_transitions (
  job_id     bigint NOT NULL REFERENCES jobs (job_id) ON DELETE CASCADE,
  transition text NOT NULL,
  at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job_id, transition)
);

-- Transactional outbox: a job fact is written with the state change that caused it, and published
-- by the relay afterwards, so a crash between the two loses nothing and publishes nothing twice
-- (the msg_id makes JetStream drop a second publish).
CREATE TABLE outbox (
  id         bigserial PRIMARY KEY,
  subject    text NOT NULL,
  msg_id     text NOT NULL,
  payload    bytea NOT NULL,
  traceparent text,
  created_at timestamptz NOT NULL DEFAULT now()
);
