import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CAPABLE_HOST, JOB_DOCKER_DIR, LABEL, planRunnerContainer, RUNNER_WORK_DIR } from '@runnerhub/docker';
import { checkContainerCreate } from './index.js';
import { policy, runnerRequests, wire } from '../test/fixtures.js';

// A runner of a dockerInJob: scoped pool is still a runner the executor's guard allows: the two
// volumes of its own and DOCKER_HOST are all it adds to the template.
describe('the runner spec of a scoped pool', () => {
  it('passes the executor guard for any pool request, and carries the socket volume, the work volume and DOCKER_HOST', () => {
    fc.assert(
      fc.property(runnerRequests, (request) => {
        const { spec } = planRunnerContainer({ ...request, dockerInJob: 'scoped' }, CAPABLE_HOST);
        expect(checkContainerCreate({ name: spec.name! }, wire(spec), policy)).toEqual({ allow: true });
        expect(spec.Labels?.[LABEL.dockerInJob]).toBe('scoped');
        expect(spec.Env).toContain(`DOCKER_HOST=unix://${JOB_DOCKER_DIR}/docker.sock`);
        expect(spec.HostConfig?.Mounts?.map((m) => [m.Source, m.Target])).toEqual(expect.arrayContaining([[`${request.runnerName}-docker`, JOB_DOCKER_DIR], [`${request.runnerName}-work`, RUNNER_WORK_DIR]]));
        // Nothing of Docker's own is handed in: no socket bind, no privilege.
        expect(spec.HostConfig?.Binds).toEqual([]);
        expect(spec.HostConfig?.Privileged).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});
