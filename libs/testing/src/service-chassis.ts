import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parsePrometheusText, type Sample } from './prometheus-text.js';
import { answersWithoutToken, concretePath, rawHttpRequest, requestTargetSpellings } from './request-targets.js';
import { startNatsServer } from './nats-server.js';
import { startTcpProxy } from './tcp-proxy.js';
import { createTestDatabase } from './postgres.js';
import { waitFor } from './wait-for.js';
import { readFileSync } from 'node:fs';
import { repoRoot, startServiceProcess, type ServiceProcess } from './service-process.js';
import { DOCKER_PROXY_URL, REDIS_URL } from './infra.js';

export interface ChassisNeeds {
  postgres?: boolean;
  redis?: boolean;
  /** Sets DOCKER_HOST to a cuttable proxy in front of the Docker socket proxy. */
  docker?: boolean;
  /** Extra environment for the service (e.g. DOCKER_HOST). */
  env?: Record<string, string>;
  /**
   * The service's own routes that answer without an admin token, as `METHOD /path` (the chassis
   * routes are public everywhere). Any other public route in /openapi.json fails the chassis test.
   */
  publicRoutes?: readonly string[];
}

/** The chassis' own routes, public in every service. */
const CHASSIS_PUBLIC_ROUTES = ['GET /healthz', 'GET /readyz', 'GET /metrics', 'GET /openapi.json'];
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

interface Operation {
  method: string;
  path: string;
  public: boolean;
}

/** Every operation of an OpenAPI document; public = an empty `security` list (OpenAPI's "no auth"). */
function operations(doc: { paths: Record<string, Partial<Record<(typeof METHODS)[number], { security?: unknown[] }>>> }): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((m) => ({ method: m.toUpperCase(), path, public: Array.isArray(item[m]!.security) && item[m]!.security.length === 0 })),
  );
}

/** Requests the chassis answered, from its own request histogram: 401s on real routes, and anything else on a real route. */
function answeredOnRoutes(samples: Sample[]): { refused: number; other: number } {
  const counts = samples.filter((x) => x.name === 'http_server_request_duration_seconds_count' && x.labels.route !== 'unmatched');
  const refused = counts.filter((x) => x.labels.status === '401').reduce((a, x) => a + x.value, 0);
  return { refused, other: counts.reduce((a, x) => a + x.value, 0) - refused };
}

type Await<T> = T extends Promise<infer U> ? U : T;

async function readyz(url: string): Promise<number> {
  try {
    return (await fetch(`${url}/readyz`)).status;
  } catch {
    return 0;
  }
}

/** Readiness flips within one probe interval plus a probe timeout (about 4 s); the rest is room for a loaded CI machine. */
const FLIP_TIMEOUT_MS = 20_000;

/**
 * The behaviours every service owes its operator, run against the real service process with its
 * own NATS server (so it can be stopped) and TCP proxies in front of Postgres and Redis (so they can
 * be cut off without disturbing anyone else).
 */
export function describeServiceChassis(name: string, needs: ChassisNeeds): void {
  describe(`${name}: chassis`, () => {
    let nats: Await<ReturnType<typeof startNatsServer>>;
    let db: Await<ReturnType<typeof createTestDatabase>> | undefined;
    let pgProxy: Await<ReturnType<typeof startTcpProxy>> | undefined;
    let redisProxy: Await<ReturnType<typeof startTcpProxy>> | undefined;
    let dockerProxy: Await<ReturnType<typeof startTcpProxy>> | undefined;
    let svc: ServiceProcess;
    const env: Record<string, string> = { ...needs.env };

    beforeAll(async () => {
      nats = await startNatsServer();
      env.NATS_URL = nats.url;
      if (needs.postgres) {
        db = await createTestDatabase(name.replace(/-/g, '_'));
        const u = new URL(db.url);
        pgProxy = await startTcpProxy({ targetHost: u.hostname, targetPort: Number(u.port || 5432) });
        u.port = String(pgProxy.port);
        env.DATABASE_URL = u.toString();
      }
      if (needs.redis) {
        const u = new URL(REDIS_URL);
        redisProxy = await startTcpProxy({ targetHost: u.hostname, targetPort: Number(u.port || 6379) });
        u.port = String(redisProxy.port);
        env.REDIS_URL = u.toString();
      }
      if (needs.docker) {
        const u = new URL(DOCKER_PROXY_URL);
        dockerProxy = await startTcpProxy({ targetHost: u.hostname, targetPort: Number(u.port || 2375) });
        env.DOCKER_HOST = `tcp://127.0.0.1:${dockerProxy.port}`;
      }
      env.ADMIN_TOKENS = 'test:write:chassis-test-token-0123456789';
      svc = await startServiceProcess(name, env);
      await waitFor(async () => (await readyz(svc.url)) === 200, { timeoutMs: 60_000, what: `${name} /readyz 200\n${svc.output()}` });
    }, 90_000);

    afterAll(async () => {
      svc?.kill('SIGKILL');
      await svc?.exited;
      await dockerProxy?.close();
      await redisProxy?.close();
      await pgProxy?.close();
      await db?.drop();
      await nats?.stop();
    });

    it('answers /healthz, /metrics and /openapi.json without a token, and 404 on a path it does not serve', async () => {
      const healthz = await fetch(`${svc.url}/healthz`);
      expect(healthz.status).toBe(200);
      // The release, from its one source (the root package.json), in all three places an operator looks.
      const { version } = JSON.parse(readFileSync(`${repoRoot}package.json`, 'utf8')) as { version: string };
      expect(await healthz.json()).toEqual({ status: 'ok', version });
      const metrics = await (await fetch(`${svc.url}/metrics`)).text();
      expect(metrics).toContain('process_resident_memory_bytes');
      const buildInfo = parsePrometheusText(metrics).filter((m) => m.name === 'runnerhub_build_info');
      expect(buildInfo.map((m) => [m.labels, m.value])).toEqual([[{ version, service: name, nodejs_version: process.versions.node }, 1]]);
      expect(svc.output()).toContain(`starting ${name} ${version} (Node.js ${process.versions.node})`);
      const doc = (await (await fetch(`${svc.url}/openapi.json`)).json()) as { info: { title: string } };
      expect(doc.info.title).toBe(`RunnerHub ${name}`);
      expect((await fetch(`${svc.url}/api/anything`)).status).toBe(404);
    });

    // Every route of the service, from its own /openapi.json (the chassis refuses a route that
    // hides from it): only the declared ones are public, and no spelling of a path gets a request
    // without a token past the check. The chassis' request histogram says which route answered each
    // request: each 401 seen is one on a real route, and no real route answered anything else.
    it('needs a token on every route not declared public, however the request target is spelled', async () => {
      const port = Number(new URL(svc.url).port);
      const doc = (await (await fetch(`${svc.url}/openapi.json`)).json()) as Parameters<typeof operations>[0];
      const all = operations(doc);
      expect(all.filter((o) => o.public).map((o) => `${o.method} ${o.path}`).sort()).toEqual([...CHASSIS_PUBLIC_ROUTES, ...(needs.publicRoutes ?? [])].sort());
      // fastify answers HEAD on every GET route with the GET route's config.
      const guarded = all.filter((o) => !o.public).flatMap((o) => (o.method === 'GET' ? [o, { ...o, method: 'HEAD' }] : [o]));
      expect(guarded.length, 'a service without admin routes').toBeGreaterThan(0);
      const scrape = async () => answeredOnRoutes(parsePrometheusText(await (await fetch(`${svc.url}/metrics`)).text()));
      const before = await scrape();
      let refused = 0;
      for (const o of guarded) {
        const target = concretePath(o.path, '1');
        expect((await rawHttpRequest(port, o.method, target)).status, `${o.method} ${target} without a token`).toBe(401);
        expect((await rawHttpRequest(port, o.method, target, { authorization: 'Bearer not-a-token-0123456789' })).status, `${o.method} ${target} with a wrong token`).toBe(401);
        refused += 2;
      }
      const request = fc.constantFrom(...guarded).chain((o) =>
        fc.record({
          method: fc.constant(o.method),
          target: requestTargetSpellings(concretePath(o.path, '1'), `127.0.0.1:${port}`),
          headers: fc.constantFrom<Record<string, string>>({}, { authorization: 'Bearer not-a-token-0123456789' }, { authorization: 'Basic dGVzdDp3cml0ZQ==' }),
        }),
      );
      await fc.assert(
        fc.asyncProperty(request, async ({ method, target, headers }) => {
          const { status, head } = await rawHttpRequest(port, method, target, headers);
          expect(answersWithoutToken(target), `${method} ${target} → ${head}`).toContain(status);
          if (status === 401) refused++;
        }),
        { numRuns: 300 },
      );
      // The histogram is written when a response finishes; wait for the last few.
      await waitFor(async () => (await scrape()).refused - before.refused >= refused, { timeoutMs: 10_000, what: `${refused} refusals in the request histogram` });
      const after = await scrape();
      expect(after.refused - before.refused, 'refusals recorded on real routes').toBe(refused);
      expect(after.other - before.other, 'answers other than 401 on a real route (a handler ran)').toBe(0);
    }, 60_000);

    it('turns /readyz 503 within seconds when NATS stops, and 200 again when it returns', async () => {
      await nats.stop({ keepStore: true });
      await waitFor(async () => (await readyz(svc.url)) === 503, { timeoutMs: FLIP_TIMEOUT_MS, what: 'readyz 503 after NATS stopped' });
      await nats.start();
      await waitFor(async () => (await readyz(svc.url)) === 200, { timeoutMs: 30_000, what: 'readyz 200 after NATS returned' });
    }, 60_000);

    if (needs.postgres) {
      it('turns /readyz 503 when Postgres goes away, and 200 again when it returns', async () => {
        await pgProxy!.cut();
        await waitFor(async () => (await readyz(svc.url)) === 503, { timeoutMs: FLIP_TIMEOUT_MS, what: 'readyz 503 after Postgres was cut off' });
        await pgProxy!.restore();
        await waitFor(async () => (await readyz(svc.url)) === 200, { timeoutMs: 30_000, what: 'readyz 200 after Postgres returned' });
      }, 60_000);
    }

    if (needs.redis) {
      it('turns /readyz 503 when Redis goes away, and 200 again when it returns', async () => {
        await redisProxy!.cut();
        await waitFor(async () => (await readyz(svc.url)) === 503, { timeoutMs: FLIP_TIMEOUT_MS, what: 'readyz 503 after Redis was cut off' });
        await redisProxy!.restore();
        await waitFor(async () => (await readyz(svc.url)) === 200, { timeoutMs: 30_000, what: 'readyz 200 after Redis returned' });
      }, 60_000);
    }

    if (needs.docker) {
      it('turns /readyz 503 when Docker stops answering, and 200 again when it returns', async () => {
        await dockerProxy!.cut();
        await waitFor(async () => (await readyz(svc.url)) === 503, { timeoutMs: FLIP_TIMEOUT_MS, what: 'readyz 503 after Docker was cut off' });
        await dockerProxy!.restore();
        await waitFor(async () => (await readyz(svc.url)) === 200, { timeoutMs: 30_000, what: 'readyz 200 after Docker returned' });
      }, 60_000);
    }

    it('exits 0 on SIGTERM, within its shutdown deadline', async () => {
      const started = Date.now();
      svc.kill('SIGTERM');
      const { code } = await svc.exited;
      expect(code, svc.output()).toBe(0);
      expect(Date.now() - started).toBeLessThan(25_000);
      expect(svc.output()).toContain('shutdown complete');
      expect(svc.output()).not.toContain('chassis-test-token-0123456789');
    }, 40_000);

    it('refuses to start with a bad variable, naming it', async () => {
      const bad = await startServiceProcess(name, { ...env, HTTP_PORT: 'eighty', LOG_LEVEL: 'loud' });
      const { code } = await bad.exited;
      expect(code).toBe(1);
      expect(bad.output()).toContain('HTTP_PORT');
      expect(bad.output()).toContain('LOG_LEVEL');
    }, 40_000);
  });
}
