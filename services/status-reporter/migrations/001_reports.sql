-- status_reporter: check runs RunnerHub writes on GitHub, and the job and runner facts it needs to
-- write them. Owned by the status-reporter only.

-- One row per (job, kind): the intent to have one check run of ours on the job's commit with this
-- content. It is the outbox: a fact writes the row (state pending), the sender makes GitHub match it.
CREATE TABLE reports (
  id              bigserial PRIMARY KEY,
  job_id          bigint NOT NULL,
  kind            text NOT NULL CHECK (kind IN ('unmatched', 'stuck', 'runner_failed', 'job_report')),
  installation_id bigint NOT NULL,
  repo_owner      text NOT NULL,
  repo_name       text NOT NULL,
  head_sha        text NOT NULL,
  pool            text,
  -- Fixed at the first fact: the check run is found again by name and external_id.
  name            text NOT NULL,
  external_id     text NOT NULL,
  -- What the kind's renderer reads (facts merged over time) and what it produced.
  details         jsonb NOT NULL,
  output          jsonb NOT NULL,
  content_hash    text NOT NULL,
  -- The content_hash GitHub has; a row is pending while it differs.
  sent_hash       text,
  check_run_id    bigint,
  html_url        text,
  state           text NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'disabled')),
  attempts        integer NOT NULL DEFAULT 0,
  -- POSTs that may have reached GitHub without their answer being recorded: > 0 means look for the
  -- check run by external_id before creating one.
  create_attempts integer NOT NULL DEFAULT 0,
  last_error      text,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  -- A sender working on the row (so two replicas never send it at once); expires if it died.
  claimed_until   timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  sent_at         timestamptz,
  UNIQUE (job_id, kind)
);
CREATE INDEX reports_due ON reports (next_attempt_at) WHERE state = 'pending';
CREATE INDEX reports_installation ON reports (installation_id, state);

-- Jobs as the job facts tell them: which are waiting in which pool (for runner.failed), and what a
-- job report needs. Status only moves forward, so facts may arrive in any order.
CREATE TABLE jobs (
  job_id          bigint PRIMARY KEY,
  installation_id bigint NOT NULL,
  repo_owner      text NOT NULL,
  repo_name       text NOT NULL,
  head_sha        text NOT NULL,
  job_name        text NOT NULL,
  workflow_name   text NOT NULL,
  labels          text[] NOT NULL,
  html_url        text NOT NULL,
  pool            text,
  status          text NOT NULL CHECK (status IN ('queued', 'started', 'completed')),
  runner_name     text,
  conclusion      text,
  queued_at       timestamptz,
  started_at      timestamptz,
  completed_at    timestamptz,
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_waiting ON jobs (pool, queued_at) WHERE status = 'queued';
CREATE INDEX jobs_runner ON jobs (runner_name) WHERE runner_name IS NOT NULL;

-- Runners by name (the name GitHub reports in job facts): host and what the container used.
CREATE TABLE runners (
  runner_name       text PRIMARY KEY,
  pool              text NOT NULL,
  host              text NOT NULL,
  cpu_seconds       double precision,
  peak_memory_bytes bigint,
  exit_code         integer,
  updated_at        timestamptz NOT NULL DEFAULT now()
);

-- Installations GitHub refused check runs for (the App lacks checks: write): no calls until an
-- operator enables them again (POST /api/installations/{id}/enable).
CREATE TABLE disabled_installations (
  installation_id bigint PRIMARY KEY,
  reason          text NOT NULL,
  disabled_at     timestamptz NOT NULL DEFAULT now()
);
