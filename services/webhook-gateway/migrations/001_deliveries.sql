-- Every verified delivery, keyed by GitHub's delivery GUID (a redelivery reuses it).
CREATE TABLE deliveries (
  guid            text PRIMARY KEY,
  event           text NOT NULL,
  action          text NOT NULL DEFAULT '',
  installation_id bigint,
  hook_id         text,
  received_at     timestamptz NOT NULL DEFAULT now(),
  -- published: on JetStream; ignored: an event we do not use; failed: JetStream did not answer
  -- (GitHub was told 503, so a redelivery will come).
  outcome         text NOT NULL CHECK (outcome IN ('published', 'ignored', 'failed')),
  subject         text,
  stream_seq      bigint,
  attempts        integer NOT NULL DEFAULT 1,
  last_error      text,
  updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX deliveries_received_at ON deliveries (received_at DESC);
CREATE INDEX deliveries_outcome ON deliveries (outcome, received_at DESC);
