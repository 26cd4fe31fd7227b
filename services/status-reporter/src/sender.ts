import type { GitHubClient } from '@runnerhub/github';
import { startLoop, type Logger } from '@runnerhub/platform';
import { checkRunFields, createCheckRun, findCheckRun, updateCheckRun } from './check-runs.js';
import type { ReporterMetrics, SendOutcome } from './metrics.js';
import { afterFailure, classify } from './report-state.js';
import type { ReportRow, Store } from './store.js';

/**
 * send-reports: makes GitHub show what each pending report says. Due reports are claimed in
 * batches (SKIP LOCKED plus a claim that expires, so replicas split the work and a dead sender's
 * reports are taken up again), grouped by installation, and sent one call each: create once (the
 * intent is committed first; after an unrecorded attempt the check run is found by external_id),
 * update afterwards. A spent rate budget defers the installation's batch without counting a failure;
 * a missing permission disables the installation.
 */

/** Due reports (retries, rate-limit waits, wake-ups another replica missed) are looked for this often. */
const POLL_MS = 1_000;
/** Reports claimed per pass: small enough that a claim never outlives the calls it covers. */
const BATCH = 20;
/** Installations served at once: each has its own budget at GitHub, so they do not slow each other. */
const INSTALLATIONS_AT_ONCE = 4;

export interface SenderDeps {
  store: Store;
  /** Retries 5xx and network errors itself: for GET and PATCH. */
  gh: GitHubClient;
  /** One attempt per call: for POST, which GitHub does not deduplicate. */
  ghCreate: GitHubClient;
  metrics: ReporterMetrics;
  log: Logger;
  maxAttempts: number;
  maxRateWaitMs: number;
  /** How long a claim holds; at least twice the longest call. */
  claimMs: number;
}

export interface Sender {
  readonly wake: () => void;
  /** One pass now, resolved when it is done (tests, the retry route). */
  readonly runOnce: () => Promise<void>;
  readonly stop: () => Promise<void>;
}

export function startSender(deps: SenderDeps): Sender {
  const { store, log, metrics } = deps;
  const slog = log.child({ loop: 'send-reports' });
  let failing = false;
  let stopped = false;

  const send = async (r: ReportRow): Promise<SendOutcome> => {
    const installationId = Number(r.installationId);
    const repository = `${r.repoOwner}/${r.repoName}`;
    const fields = checkRunFields(r.output);
    let checkRunId = r.checkRunId;
    let outcome: SendOutcome = 'updated';
    if (!checkRunId && r.createAttempts > 0) {
      // An earlier attempt may have created it and died before recording the answer.
      const found = await findCheckRun(deps.gh, installationId, repository, r.headSha, r.name, r.externalId);
      if (found) {
        checkRunId = String(found.id);
        outcome = 'adopted';
      }
    }
    let htmlUrl: string | null;
    if (checkRunId) {
      htmlUrl = (await updateCheckRun(deps.gh, installationId, repository, BigInt(checkRunId), fields)).html_url;
    } else {
      await store.markCreating(r.id);
      const created = await createCheckRun(deps.ghCreate, installationId, repository, { ...fields, name: r.name, head_sha: r.headSha, external_id: r.externalId });
      checkRunId = String(created.id);
      htmlUrl = created.html_url;
      outcome = 'created';
    }
    await store.recordSent(r.id, checkRunId, htmlUrl, r.contentHash);
    return outcome;
  };

  const sendInstallation = async (rows: ReportRow[]): Promise<void> => {
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      if (stopped) {
        await store.release(rows.slice(i).map((x) => x.id));
        return;
      }
      try {
        const outcome = await send(r);
        metrics.send(r.kind, outcome);
        slog.debug({ report: r.id, jobId: r.jobId, kind: r.kind, outcome }, 'check run written');
      } catch (err) {
        const failure = classify(err);
        const message = (err as Error).message;
        const next = afterFailure(failure, r.attempts, { maxAttempts: deps.maxAttempts, maxRateWaitMs: deps.maxRateWaitMs });
        if (failure.kind === 'permission') {
          // Every further call for this installation would be refused the same way.
          if (await store.disableInstallation(r.installationId, message)) {
            metrics.installationDisabled(failure.permission);
            slog.error(
              { installationId: r.installationId, permission: failure.permission, repository: `${r.repoOwner}/${r.repoName}` },
              `GitHub refused a check run for installation ${r.installationId}: the App needs ${failure.permission}. Reporting for this installation is off until the permission is granted and POST /api/installations/${r.installationId}/enable is called`,
            );
          }
          await store.recordFailure(r.id, next, message);
          metrics.send(r.kind, 'disabled');
          return;
        }
        if (failure.kind === 'rate_limited') {
          // The rest of this installation's batch would meet the same answer: all wait, none fails.
          for (const rest of rows.slice(i)) {
            await store.recordFailure(rest.id, next, message);
            metrics.send(rest.kind, 'rate_limited');
          }
          slog.info({ installationId: r.installationId, reports: rows.length - i, retryInMs: next.delayMs }, 'GitHub rate budget spent for this installation; reports wait');
          return;
        }
        await store.recordFailure(r.id, next, message);
        metrics.send(r.kind, next.state === 'failed' ? 'failed' : 'retry');
        if (next.state === 'failed') slog.warn({ report: r.id, jobId: r.jobId, kind: r.kind, err: message }, 'report could not be written to GitHub; giving up (POST /api/reports/{id}/retry sends it again)');
        else slog.debug({ report: r.id, err: message, retryInMs: next.delayMs }, 'GitHub call failed; retrying later');
      }
    }
  };

  const passOnce = async (): Promise<number> => {
    let rows: ReportRow[];
    try {
      rows = await store.claimDue(BATCH, deps.claimMs);
    } catch (err) {
      if (!failing) slog.warn({ err: (err as Error).message }, 'cannot reach Postgres; reports wait');
      failing = true;
      return 0;
    }
    if (failing) slog.info('reports are sent again');
    failing = false;
    const byInstallation = new Map<string, ReportRow[]>();
    for (const r of rows) byInstallation.set(r.installationId, [...(byInstallation.get(r.installationId) ?? []), r]);
    const groups = [...byInstallation.values()];
    const workers = Array.from({ length: Math.min(INSTALLATIONS_AT_ONCE, groups.length) }, async () => {
      for (let g = groups.shift(); g; g = groups.shift()) {
        await sendInstallation(g).catch((err: unknown) => slog.warn({ err: (err as Error).message }, 'send pass failed; the claims expire and the reports are sent again'));
      }
    });
    await Promise.all(workers);
    return rows.length;
  };

  // Failures are logged inside a pass (Postgres unreachable, a GitHub call failing), so a pass never throws.
  const loop = startLoop({
    name: 'status-reporter.send-reports',
    intervalMs: POLL_MS,
    log: slog,
    run: async (signal) => {
      while (!signal.aborted && (await passOnce()) === BATCH);
    },
  });
  return {
    wake: loop.wake,
    runOnce: loop.runNow,
    async stop() {
      // Rows claimed but not yet sent are released at once rather than left to their claim's expiry.
      stopped = true;
      await loop.stop();
    },
  };
}
