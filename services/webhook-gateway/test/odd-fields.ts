import fc from 'fast-check';
import examples from '@octokit/webhooks-examples/api.github.com/index.json' with { type: 'json' };

/**
 * Odd values for the fields the gateway translates: what GitHub sends, what it never could, and the
 * values that broke the gateway before (issue 19). Shared by translate's property test and the
 * intake's, which sends them signed through the real thing.
 */

export type Path = ReadonlyArray<string | number>;
export const dotted = (path: Path) => path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
export function setAt(target: Record<string, unknown>, path: Path, value: unknown): void {
  let node: Record<string | number, unknown> = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (!next || typeof next !== 'object') node[key] = typeof key === 'number' ? [] : {};
    node = node[key] as Record<string | number, unknown>;
  }
  node[path.at(-1)!] = value;
}

/** Every field translate reads, per event. */
export const FIELDS: Record<string, Path[]> = {
  workflow_job: [
    ['action'], ['installation'], ['installation', 'id'], ['repository'], ['repository', 'id'], ['repository', 'owner'], ['repository', 'owner', 'login'], ['repository', 'name'],
    ['repository', 'full_name'], ['organization'], ['organization', 'login'], ['sender'], ['sender', 'login'], ['workflow_job'],
    ...['id', 'run_id', 'run_attempt', 'workflow_name', 'name', 'labels', 'status', 'conclusion', 'runner_id', 'runner_name', 'runner_group_id', 'runner_group_name', 'head_sha', 'head_branch', 'html_url', 'created_at', 'started_at', 'completed_at', 'check_run_url'].map((k) => ['workflow_job', k]),
    ['workflow_job', 'labels', 0], ['workflow_job', 'labels', 1],
  ],
  workflow_run: [['action'], ['repository', 'owner', 'login'], ['workflow_run'], ...['id', 'run_attempt', 'workflow_id', 'name', 'status', 'conclusion', 'head_sha', 'head_branch', 'event', 'html_url', 'created_at', 'updated_at'].map((k) => ['workflow_run', k])],
  installation: [['installation', 'id'], ['installation', 'app_id'], ['installation', 'account'], ['installation', 'account', 'login'], ['installation', 'account', 'id'], ['installation', 'account', 'type'], ['installation', 'repository_selection'], ['repositories'], ['repositories', 0], ['repositories', 0, 'id'], ['repositories', 0, 'full_name'], ['repositories', 0, 'name']],
  ping: [['hook_id'], ['hook'], ['hook', 'id'], ['hook', 'app_id'], ['zen']],
};

/** Values GitHub sends, values it never could, and the ones that broke the gateway before. */
export const oddValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(-1, 0, 1, 1.5, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, 2 ** 63, -(2 ** 63), 1e300, Number.MAX_SAFE_INTEGER),
  fc.constantFrom('', '\u0000', 'gpu\u0000', '\ud800', 'x\udc00y', '\ud83d\ude80', 'x'.repeat(5000), 'é'.repeat(1500), 'a.b', 'q*', '>', ' ', 'self-hosted'),
  fc.constantFrom('2026-01-01T00:00:00Z', '1969-12-31T23:59:59Z', '-100000-01-01T00:00:00Z', '+275760-09-13T00:00:00Z', 'yesterday', '9999-12-31T23:59:59.999Z'),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.array(fc.string({ unit: 'binary', maxLength: 20 }), { maxLength: 200 }),
  fc.constantFrom(null, true, [], {}, Array.from({ length: 129 }, (_, i) => `l${i}`), ['x'.repeat(257)], Array.from({ length: 128 }, () => 'y'.repeat(256))),
);

type Example = { name: string; examples: Array<Record<string, unknown>> };

/** GitHub's own example payloads of every event translate reads. */
export const exampleDeliveries = Object.keys(FIELDS).flatMap((event) =>
  (examples as unknown as Example[]).find((e) => e.name === event)!.examples.map((payload) => ({ event, payload })),
);

/** One example delivery with one translated field set to an odd value. */
export const oddDelivery = fc
  .constantFrom(...exampleDeliveries)
  .chain(({ event, payload }) => fc.record({ event: fc.constant(event), payload: fc.constant(payload), path: fc.constantFrom(...FIELDS[event]!), value: oddValue }))
  .map(({ event, payload, path, value }) => {
    const mutated = structuredClone(payload);
    setAt(mutated, path, value);
    return { event, payload: mutated, changed: dotted(path) };
  });
