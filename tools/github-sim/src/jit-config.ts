import type { Runner } from './world.js';

/**
 * `encoded_jit_config` in the shape actions/runner decodes (github-contract.md §6): base64 of a
 * JSON object mapping runner file names to base64 file contents. `ServerUrl` is where our fake
 * runner finds the simulator's runner protocol.
 */
export function encodeJitConfig(runner: Runner, urls: { web: string; runnerUrl: string; groupName: string }): string {
  const scopePath = runner.repo ? runner.repo.fullName : runner.owner;
  const file = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64');
  const files = {
    '.runner': file({
      AgentId: runner.id,
      AgentName: runner.name,
      PoolId: runner.runnerGroupId,
      PoolName: urls.groupName,
      ServerUrl: urls.runnerUrl,
      GitHubUrl: `${urls.web}/${scopePath}`,
      WorkFolder: runner.workFolder,
      Ephemeral: true,
      DisableUpdate: true,
      UseV2Flow: true,
      ServerUrlV2: urls.runnerUrl,
    }),
    '.credentials': file({ Scheme: 'OAuth', Data: { token: runner.secret } }),
  };
  return Buffer.from(JSON.stringify(files)).toString('base64');
}
