import type { Meter } from '@opentelemetry/api';
import type { ReportKind } from './render.js';

/** What became of one attempt to make GitHub show a report. */
export type SendOutcome = 'created' | 'updated' | 'adopted' | 'rate_limited' | 'retry' | 'failed' | 'disabled';

/** Label sets stay bounded: kind and outcome are small fixed vocabularies; no installation ids. */
export function reporterMetrics(meter: Meter) {
  const sends = meter.createCounter('runnerhub_status_report_sends', {
    description: 'GitHub check run writes by report kind and outcome (adopted: found by external_id after a crash instead of created twice).',
  });
  const facts = meter.createCounter('runnerhub_status_report_changes', {
    description: 'Reports written from facts, by kind and result (created, changed, unchanged for a duplicate fact).',
  });
  const disabled = meter.createCounter('runnerhub_status_installations_disabled', {
    description: 'Installations whose reporting was switched off because GitHub refused a permission (the App lacks checks: write).',
  });
  return {
    send: (kind: ReportKind, outcome: SendOutcome) => sends.add(1, { kind, outcome }),
    fact: (kind: ReportKind, result: string) => facts.add(1, { kind, result }),
    installationDisabled: (permission: string) => disabled.add(1, { permission }),
  };
}

export type ReporterMetrics = ReturnType<typeof reporterMetrics>;
