-- Where a job's code comes from (scheduler/src/origin.ts, docs/security.md#public-repositories):
-- a public repository's jobs, and pull requests from forks, run only on pools that allow them;
-- a job no pool lets run is `refused`. Jobs recorded before this kept false: they were admitted.
ALTER TABLE jobs DROP CONSTRAINT jobs_match_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_match_check CHECK (match IN ('matched', 'unmatched', 'not_ours', 'refused'));
ALTER TABLE jobs
  ADD COLUMN public_repository boolean NOT NULL DEFAULT false,
  ADD COLUMN fork_pull_request boolean NOT NULL DEFAULT false;
