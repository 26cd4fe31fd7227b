-- Redeliveries the reconciler asked GitHub for: one row per GUID, so a GUID is not asked for again
-- within the cool-down, and so "recovered" can be counted when the delivery arrives.
CREATE TABLE redeliveries (
  guid               text PRIMARY KEY,
  github_delivery_id bigint NOT NULL,
  event              text NOT NULL,
  action             text NOT NULL DEFAULT '',
  first_requested_at timestamptz NOT NULL DEFAULT now(),
  requested_at       timestamptz NOT NULL DEFAULT now(),
  requests           integer NOT NULL DEFAULT 1,
  recovered_at       timestamptz
);

CREATE INDEX redeliveries_open ON redeliveries (requested_at) WHERE recovered_at IS NULL;

-- Where the last complete scan of GitHub's deliveries list started.
CREATE TABLE reconciler_checkpoint (
  id         integer PRIMARY KEY CHECK (id = 1),
  scanned_to timestamptz NOT NULL
);
