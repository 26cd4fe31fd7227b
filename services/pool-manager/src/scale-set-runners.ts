import { PoolIntake, type PoolDefinition } from '@runnerhub/contracts';
import { ScaleSetClient, ScaleSetNotFoundError, type GitHubClient, type GitHubLog, type RunnerScope, type ScaleSet } from '@runnerhub/github';

/**
 * JIT configs for pools whose jobs come from GitHub's runner scale sets (intake scaleset or both):
 * their runners must be the scale set's (its generatejitconfig), or GitHub never gives them the
 * jobs it holds for the scale set. The scale set is the one the gateway's listener holds a session
 * for; whichever service comes first creates it (ensureScaleSet finds the other's).
 */

export const usesScaleSet = (pool: PoolDefinition): boolean => pool.intake === PoolIntake.SCALE_SET || pool.intake === PoolIntake.BOTH;

export interface ScaleSetRegistration {
  runnerId: number;
  runnerGroupId: number;
  encodedJitConfig: string;
}

export function scaleSetRunners(gh: GitHubClient, log: GitHubLog) {
  const clients = new Map<string, ScaleSetClient>();
  const scaleSets = new Map<string, ScaleSet>();
  const clientFor = (scope: RunnerScope): ScaleSetClient => {
    const key = 'repository' in scope ? `repo:${scope.repository}` : `org:${scope.org}`;
    let client = clients.get(key);
    if (!client) clients.set(key, (client = new ScaleSetClient(gh, scope, { log })));
    return client;
  };
  return {
    /** Registers runner `name` with the pool's scale set and answers its JIT config (never log it). */
    async register(pool: PoolDefinition, scope: RunnerScope, name: string): Promise<ScaleSetRegistration> {
      const client = clientFor(scope);
      let scaleSet = scaleSets.get(pool.name);
      if (!scaleSet) scaleSets.set(pool.name, (scaleSet = await client.ensureScaleSet({ name: pool.name, runnerGroup: pool.runnerGroup })));
      try {
        const { runner, encodedJitConfig } = await client.generateJitConfig(scaleSet.id, { name });
        return { runnerId: runner.id, runnerGroupId: scaleSet.runnerGroupId, encodedJitConfig };
      } catch (error) {
        // Deleted at GitHub (by hand, or after a week without a listener): find or make it again next time.
        if (error instanceof ScaleSetNotFoundError) scaleSets.delete(pool.name);
        throw error;
      }
    },
  };
}
