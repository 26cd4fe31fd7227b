import type { Attributes, Meter, ObservableResult } from '@opentelemetry/api';

/** Outcome of one POST /webhooks/github, as counted and as answered. */
export type IntakeOutcome = 'published' | 'duplicate' | 'ignored' | 'rejected' | 'invalid' | 'unavailable';

/**
 * Label sets stay bounded: event and action only for deliveries whose signature verified (GitHub's
 * own, small vocabulary); rejected requests are counted by reason alone.
 */
export function intakeMetrics(meter: Meter) {
  // Counted in plain maps and read at scrape time: a synchronous counter hashes its attribute set on
  // every add(), a few µs per delivery on the hot path; a map lookup by a short key costs next to nothing.
  const deliveries = new Map<string, { attributes: Attributes; count: number }>();
  const rejected = new Map<string, { attributes: Attributes; count: number }>();
  const count = (m: typeof deliveries, key: string, attributes: () => Attributes) => {
    const c = m.get(key);
    if (c) c.count++;
    else m.set(key, { attributes: attributes(), count: 1 });
  };
  const report = (m: typeof deliveries) => (r: ObservableResult) => {
    for (const c of m.values()) r.observe(c.count, c.attributes);
  };
  meter.createObservableCounter('runnerhub_webhook_deliveries', { description: 'Webhook deliveries by event, action and outcome.' }).addCallback(report(deliveries));
  meter
    .createObservableCounter('runnerhub_webhook_rejections', {
      description: 'Webhook requests refused before or at verification, by reason (valid="false" in garm terms).',
    })
    .addCallback(report(rejected));
  const toPubAck = meter.createHistogram('runnerhub_webhook_persist_duration_seconds', {
    description: 'From request received to JetStream PubAck, for deliveries that were published.',
    unit: 's',
    advice: { explicitBucketBoundaries: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] },
  });
  return {
    delivery(outcome: IntakeOutcome, event: string, action: string) {
      count(deliveries, `${outcome}\n${event}\n${action}`, () => ({ event, action: action || 'none', outcome }));
    },
    rejection(reason: string) {
      count(rejected, reason, () => ({ reason }));
      count(deliveries, 'rejected', () => ({ event: 'unverified', action: 'none', outcome: 'rejected' }));
    },
    /** A verified delivery that can never be published (larger than NATS takes): rejected, by its event. */
    refusal(reason: string, event: string, action: string) {
      count(rejected, reason, () => ({ reason }));
      count(deliveries, `rejected\n${event}\n${action}`, () => ({ event, action: action || 'none', outcome: 'rejected' }));
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
