-- Every pool the pool-manager publishes, from POOLS_FILE or the admin API. A deleted pool (gone from
-- the file, or deleted through the API) stays here, drained, until its last runner is gone, so the
-- reconcile loop can still retire its runners with the right GitHub scope.
CREATE TABLE pools (
  name        text PRIMARY KEY,
  source      text NOT NULL CHECK (source IN ('file', 'api')),
  -- The validated spec as the YAML/API shape (docs/pools.md), defaults filled in.
  spec        jsonb NOT NULL,
  -- Operational state, kept across file reloads and restarts; allowed on file pools too.
  drained     boolean NOT NULL DEFAULT false,
  deleted_at  timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Hosts that take no new runners; their waiting runners are retired, busy ones finish.
CREATE TABLE drained_hosts (
  host        text PRIMARY KEY,
  drained_at  timestamptz NOT NULL DEFAULT now()
);
