/**
 * Drives load at an already running gateway (for profiling it: start the gateway with
 * `node --cpu-prof ...`, then `node --import tsx bench/webhook-ingest/drive.ts <url> <secret> [seconds]`).
 */
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { sign } from '@octokit/webhooks-methods';
import examples from '@octokit/webhooks-examples/api.github.com/index.json' with { type: 'json' };

const [url, secret, seconds = '10'] = process.argv.slice(2);
if (!url || !secret) throw new Error('usage: drive.ts <gateway url> <webhook secret> [seconds]');
type Example = { name: string; examples: Array<{ action: string }> };
const payload = JSON.stringify((examples as unknown as Example[]).find((e) => e.name === 'workflow_job')!.examples.find((e) => e.action === 'queued'));
const result = await autocannon({
  url: `${url}/webhooks/github`,
  method: 'POST',
  connections: Number(process.env.CONNECTIONS ?? 20),
  duration: Number(seconds),
  headers: { 'content-type': 'application/json', 'x-github-event': 'workflow_job', 'x-hub-signature-256': await sign(secret, payload) },
  body: payload,
  requests: [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, 'x-github-delivery': randomUUID() } }) }],
});
console.log(`${result.requests.average.toFixed(0)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, non2xx ${result.non2xx}`);
