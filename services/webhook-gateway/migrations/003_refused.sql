-- refused: verified, but what GitHub sent can never be published (a field out of bounds, larger than
-- NATS takes): answered 4xx with the reason in last_error; the redelivery reconciler leaves it alone.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_outcome_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_outcome_check CHECK (outcome IN ('published', 'ignored', 'failed', 'refused'));
