import { createCheckRun, updateCheckRun, type CheckRun, type CheckRunFields, type GitHubClient } from '@runnerhub/github';
import type { RenderedCheckRun } from './render.js';

/**
 * The three GitHub calls a report needs. Create is not idempotent at GitHub, so it is sent once per
 * attempt (no client-side retry) and, after an attempt whose answer we did not record, the check run
 * is looked up by its external_id before a second one is created.
 */

/** Pages of 100 looked through; more check runs of one name on one commit would be odd. */
const MAX_PAGES = 5;

export function checkRunFields(r: RenderedCheckRun): CheckRunFields {
  const base = { name: r.name, output: r.output, ...(r.details_url ? { details_url: r.details_url } : {}) };
  return r.status === 'completed' ? { ...base, status: 'completed', conclusion: r.conclusion ?? 'neutral' } : { ...base, status: 'in_progress' };
}

/** Our check run for `externalId` on the commit, if an earlier attempt created it. */
export async function findCheckRun(gh: GitHubClient, installationId: number, repository: string, headSha: string, name: string, externalId: string): Promise<CheckRun | undefined> {
  const [owner, repo] = repository.split('/');
  let seen = 0;
  for await (const run of gh.paginate<CheckRun>({ installationId }, 'GET /repos/{owner}/{repo}/commits/{ref}/check-runs', { owner, repo, ref: headSha, check_name: name, filter: 'all', app_id: gh.appId }, (data) => (data as { check_runs: CheckRun[] }).check_runs)) {
    if (run.external_id === externalId) return run;
    if (++seen >= MAX_PAGES * 100) break;
  }
  return undefined;
}

export { createCheckRun, updateCheckRun };
