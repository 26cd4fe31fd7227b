import type { Meter } from '@opentelemetry/api';

/** Outcome of one POST /webhooks/github, as counted and as answered. */
export type IntakeOutcome = 'published' | 'duplicate' | 'ignored' | 'rejected' | 'invalid' | 'unavailable';

/**
 * Label sets stay bounded: event and action only for deliveries whose signature verified (GitHub's
 * own, small vocabulary); rejected requests are counted by reason alone.
 */
export function intakeMetrics(meter: Meter) {
  const deliveries = meter.createCounter('runnerhub_webhook_deliveries', {
    description: 'Webhook deliveries by event, action and outcome.',
  });
  const rejected = meter.createCounter('runnerhub_webhook_rejections', {
    description: 'Webhook requests refused before or at verification, by reason (valid="false" in garm terms).',
  });
  const toPubAck = meter.createHistogram('runnerhub_webhook_persist_duration_seconds', {
    description: 'From request received to JetStream PubAck, for deliveries that were published.',
    unit: 's',
    advice: { explicitBucketBoundaries: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] },
  });
  return {
    delivery(outcome: IntakeOutcome, event: string, action: string) {
      deliveries.add(1, { event, action: action || 'none', outcome });
    },
    rejection(reason: string) {
      rejected.add(1, { reason });
      deliveries.add(1, { event: 'unverified', action: 'none', outcome: 'rejected' });
    },
    persisted(seconds: number) {
      toPubAck.record(seconds);
    },
  };
}

export type IntakeMetrics = ReturnType<typeof intakeMetrics>;

export function redeliveryMetrics(meter: Meter) {
  const requested = meter.createCounter('runnerhub_webhook_redeliveries_requested', {
    description: 'Redeliveries the reconciler asked GitHub for, by event.',
  });
  const recovered = meter.createCounter('runnerhub_webhook_redeliveries_recovered', {
    description: 'Requested redeliveries that arrived and were published.',
  });
  return {
    requested: (event: string) => requested.add(1, { event }),
    recovered: (count: number) => recovered.add(count),
  };
}
