import type { Finding } from './findings.js';

/**
 * The socket proxy's answers, asked without changing anything on the host: what the executor needs
 * must pass, what it must never do must be refused. Each probe is one that Docker itself would
 * refuse without side effects if the proxy let it through (a create with an invalid image
 * reference, an exec on a container that does not exist), so a proxy that lets it through is
 * seen, and nothing is made either way.
 */

const PROBE = 'runnerhub-doctor-probe';
/** Docker's answer to this reference is 400 "invalid reference format" before anything exists. */
const INVALID_IMAGE = 'runnerhub-doctor/invalid::reference';

interface Answer {
  status: number;
  text: string;
}

async function ask(base: string, method: string, path: string, body?: unknown): Promise<Answer> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, text: (await response.text()).slice(0, 300) };
}

const refusedByProxy = (a: Answer) => a.status === 403;

export async function proxyFindings(dockerHost: string): Promise<Finding[]> {
  if (dockerHost.startsWith('unix://')) {
    return [
      {
        check: 'proxy',
        level: 'warning',
        message: `DOCKER_HOST is the Docker socket itself (${dockerHost}): nothing stands between the executor and root on the host`,
        fix: 'point DOCKER_HOST at the socket proxy (tcp://socket-proxy:2375 in docker-compose.yml); the raw socket is for development only',
      },
    ];
  }
  const base = dockerHost.replace(/^tcp:/, 'http:').replace(/\/+$/, '');
  const findings: Finding[] = [];
  const needed: Array<[string, string]> = [
    ['GET', '/_ping'],
    ['GET', '/version'],
    ['GET', '/info'],
    ['GET', '/containers/json?limit=1'],
    ['GET', '/images/json'],
    ['GET', '/networks'],
  ];
  const blocked: string[] = [];
  for (const [method, path] of needed) {
    const answer = await ask(base, method, path);
    if (answer.status !== 200) blocked.push(`${method} ${path} → ${answer.status}`);
  }
  findings.push(
    blocked.length === 0
      ? { check: 'proxy.allowed', level: 'ok', message: `the proxy at ${dockerHost} lets through what the executor reads (ping, version, info, containers, images, networks)` }
      : { check: 'proxy.allowed', level: 'failure', message: `the proxy at ${dockerHost} refuses what the executor needs: ${blocked.join(', ')}`, fix: 'use deploy/socket-proxy/haproxy.cfg as it is in this repository' },
  );

  const forbidden: Array<[string, string, string, unknown?]> = [
    ['proxy.plugins', 'GET', '/plugins'],
    ['proxy.exec', 'POST', `/containers/${PROBE}/exec`, { Cmd: ['true'] }],
    ['proxy.build', 'POST', '/build?t=runnerhub-doctor-never', undefined],
    ['proxy.secrets', 'GET', '/secrets'],
  ];
  for (const [check, method, path, body] of forbidden) {
    // A build without a body, should it get through, fails in Docker at once with nothing built.
    const answer = await ask(base, method, path, body);
    findings.push(
      refusedByProxy(answer)
        ? { check, level: 'ok', message: `${method} ${path.split('?')[0]} is refused (403)` }
        : { check, level: 'failure', message: `${method} ${path.split('?')[0]} is not refused by the proxy (Docker answered ${answer.status}): jobs' containers could be reached or the host changed through it`, fix: 'use deploy/socket-proxy/haproxy.cfg, which answers 403 to everything but the calls the executor makes' },
    );
  }

  // A privileged create: the proxy reads paths, not bodies, so this reaches Docker, which refuses
  // the invalid image reference before creating anything.
  const create = await ask(base, 'POST', `/containers/create?name=${PROBE}`, { Image: INVALID_IMAGE, HostConfig: { Privileged: true, Binds: ['/:/host'] } });
  if (refusedByProxy(create)) {
    findings.push({ check: 'proxy.privileged-create', level: 'ok', message: 'a privileged container create is refused by the proxy itself (403)' });
  } else if (create.status === 201) {
    await ask(base, 'DELETE', `/containers/${PROBE}?force=1`);
    findings.push({ check: 'proxy.privileged-create', level: 'failure', message: 'Docker created a container from an invalid probe; it was removed again', fix: 'report this: the engine accepted what it should refuse' });
  } else {
    findings.push({
      check: 'proxy.privileged-create',
      level: 'warning',
      message: `a privileged create reaches Docker through the proxy (it answered ${create.status} to the probe's invalid image, so nothing was made): the proxy checks paths, not bodies, so the executor's spec is what keeps runners unprivileged`,
      fix: 'let nothing but the container-executor reach the proxy port (docker-compose.yml keeps it on an internal network with no published port)',
    });
  }
  return findings;
}
