import { RepositoryVisibility, WorkflowJobStatus, type WorkflowJobEvent } from '@runnerhub/contracts';
import { getRepository, getRun, type GitHubClient } from '@runnerhub/github';
import type { Logger } from '@runnerhub/platform';
import type { JobOrigin } from './matching.js';

/**
 * Where a queued job's code comes from (docs/security.md#public-repositories): whether its
 * repository is public, and whether its run is a pull request from a fork. A webhook carries the
 * repository's visibility; a job found through the REST API or the scale-set queue does not, and
 * GitHub is asked. The fork question is asked only of public repositories: a private repository's
 * fork pull requests run only where its owner turned that on in the repository's settings.
 *
 * What cannot be learned counts against the job (public, from a fork): a pool that does not opt in
 * never runs code whose origin is unknown. A GitHub error throws, and the delivery is retried.
 */
export interface OriginLookup {
  of(event: WorkflowJobEvent): Promise<JobOrigin>;
}

/** Visibility of a repository changes rarely; a run's head repository never. */
const VISIBILITY_TTL_MS = 10 * 60_000;
const REMEMBERED = 5_000;

const UNKNOWN: JobOrigin = { publicRepository: true, forkPullRequest: true };

export function createOriginLookup(deps: { gh: GitHubClient | undefined; log: Logger }): OriginLookup {
  const visibility = new Map<string, { public: boolean; until: number }>();
  const forkRuns = new Map<string, boolean>();
  const remember = <V>(map: Map<string, V>, key: string, value: V) => {
    map.set(key, value);
    if (map.size > REMEMBERED) map.delete(map.keys().next().value!);
  };
  let warned = false;

  const isPublic = async (event: WorkflowJobEvent, repository: string, installationId: number): Promise<boolean | undefined> => {
    const said = event.repository?.visibility ?? RepositoryVisibility.UNSPECIFIED;
    if (said !== RepositoryVisibility.UNSPECIFIED) return said === RepositoryVisibility.PUBLIC;
    const known = visibility.get(repository.toLowerCase());
    if (known && known.until > Date.now()) return known.public;
    if (!deps.gh || installationId === 0) return undefined;
    const repo = await getRepository(deps.gh, installationId, repository);
    const pub = repo.visibility ? repo.visibility === 'public' : !repo.private;
    remember(visibility, repository.toLowerCase(), { public: pub, until: Date.now() + VISIBILITY_TTL_MS });
    return pub;
  };

  const fromFork = async (event: WorkflowJobEvent, repository: string, installationId: number): Promise<boolean | undefined> => {
    const key = `${repository.toLowerCase()}#${event.runId}`;
    const known = forkRuns.get(key);
    if (known !== undefined) return known;
    if (!deps.gh || installationId === 0) return undefined;
    const run = await getRun(deps.gh, installationId, repository, Number(event.runId));
    // A run's code is the head repository's; pull_request_target runs the base's workflow, but
    // such workflows commonly check out the fork's head, so any run whose head is elsewhere counts.
    const head = run.head_repository?.full_name;
    const fork = head !== undefined && head.toLowerCase() !== repository.toLowerCase();
    remember(forkRuns, key, fork);
    return fork;
  };

  return {
    async of(event) {
      // Only a queued job is ever given a runner; the origin of any other event is never used.
      if (event.status !== WorkflowJobStatus.QUEUED) return { publicRepository: false, forkPullRequest: false };
      const repository = event.repository?.fullName ?? '';
      const installationId = Number(event.delivery?.installationId ?? 0n);
      const pub = await isPublic(event, repository, installationId);
      if (pub === false) return { publicRepository: false, forkPullRequest: false };
      const fork = pub === true ? await fromFork(event, repository, installationId) : undefined;
      if (pub === undefined || fork === undefined) {
        if (!warned) deps.log.warn({ repository }, 'a job\'s repository visibility or fork origin could not be learned (no GitHub App configured): it counts as public and from a fork');
        warned = true;
        return UNKNOWN;
      }
      return { publicRepository: true, forkPullRequest: fork };
    },
  };
}
