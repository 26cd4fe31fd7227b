import { readFileSync, writeFileSync } from 'node:fs';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNNER_IMAGES, SERVICES, startPlatform, type Platform } from '../src/index.js';

const genDir = new URL('../../tools/cli/src/gen/', import.meta.url);

describe('the runnerhub CLI and its MCP tools against the whole platform', () => {
  let platform: Platform;

  beforeAll(async () => {
    platform = await startPlatform({
      pools: `pools:
  - name: warm
    repository: acme/app
    labels: [warm]
    image: ${RUNNER_IMAGES.fake}
    pullPolicy: never
    cpus: 0.25
    memoryMb: 128
    pids: 256
    minIdle: 1
    max: 3
    idleTimeoutSeconds: 3
`,
    });
  }, 600_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it("has client types generated from each service's own /openapi.json (RUNNERHUB_UPDATE_API_TYPES=1 regenerates them)", async () => {
    const stale: string[] = [];
    for (const service of SERVICES) {
      const doc = (await (await fetch(`${platform.services[service]!.url}/openapi.json`)).json()) as Record<string, unknown>;
      delete (doc['info'] as Record<string, unknown>)['version'];
      const text = `// Generated from the ${service}'s /openapi.json by e2e/test/cli.test.ts (RUNNERHUB_UPDATE_API_TYPES=1): do not edit.\n${astToString(await openapiTS(doc as never))}`;
      const file = new URL(`${service}.ts`, genDir);
      let current = '';
      try {
        current = readFileSync(file, 'utf8');
      } catch {
        // missing: stale
      }
      if (current === text) continue;
      if (process.env.RUNNERHUB_UPDATE_API_TYPES === '1') writeFileSync(file, text);
      else stale.push(service);
    }
    expect(stale, 'the CLI types are stale: run RUNNERHUB_UPDATE_API_TYPES=1 npx vitest run test/cli.test.ts in e2e').toEqual([]);
  });
});
