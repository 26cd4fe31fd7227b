/**
 * What the doctor found, one line each: what it checked, how it stands, and for anything short of
 * ok, what to do. `failure` means the first job will not run (or not safely) until it is fixed;
 * `warning` means jobs run but something a person should know is off; `info` is a fact worth seeing.
 */

export type FindingLevel = 'ok' | 'info' | 'warning' | 'failure';

export interface Finding {
  /** Stable id of the check: docker.cpu, proxy.plugins, clock, github.permissions, ... */
  check: string;
  level: FindingLevel;
  message: string;
  fix?: string;
}

export interface DoctorReport {
  findings: Finding[];
  /** 0 nothing failed (warnings allowed), 1 at least one failure. 2 is the CLI's, for bad options. */
  exitCode: 0 | 1;
}

export const EXIT_USAGE = 2;

export function report(findings: Finding[]): DoctorReport {
  return { findings, exitCode: findings.some((f) => f.level === 'failure') ? 1 : 0 };
}

const MARK: Record<FindingLevel, string> = { ok: 'ok  ', info: 'info', warning: 'WARN', failure: 'FAIL' };

/** The report as a person reads it in a terminal. */
export function formatReport(doctor: DoctorReport): string {
  const lines = doctor.findings.flatMap((f) => [`${MARK[f.level]}  ${f.check.padEnd(24)} ${f.message}`, ...(f.fix && f.level !== 'ok' ? [`      ${''.padEnd(24)} fix: ${f.fix}`] : [])]);
  const counts = (['failure', 'warning'] as const).map((level) => `${doctor.findings.filter((f) => f.level === level).length} ${level === 'failure' ? 'failed' : 'warnings'}`);
  lines.push('', doctor.exitCode === 0 ? `ready for the first job (${counts.join(', ')})` : `not ready: ${counts.join(', ')}`);
  return lines.join('\n');
}
