import { readFileSync } from 'node:fs';
import { createDockerClient, hostCapabilitiesFrom, readHostCapabilities, type DockerInfo, type HostCapabilities } from '@runnerhub/docker';
import { report, type DoctorReport, type Finding } from './findings.js';
import { githubFindings, webhookUrlFindings, type GitHubTarget } from './github-checks.js';
import { hostFindings } from './host-checks.js';
import { proxyFindings } from './proxy-checks.js';

/**
 * Checks a host before its first job: the Docker engine behind the socket proxy and what its kernel
 * can enforce, the proxy's answers, the clock against GitHub's, the App's permissions and events,
 * and whether webhooks arrive. Each finding says what to do. The `runnerhub` CLI calls this.
 */

export interface DoctorOptions {
  /** tcp://host:port of the socket proxy (what the executor's DOCKER_HOST is). */
  dockerHost: string;
  /** GitHub's API (or the simulator's); checked for reachability and the clock even without an App. */
  githubApiUrl: string;
  /** The App, when configured: its JWT reads `GET /app`, its installations and its deliveries. */
  app?: GitHubTarget;
  webhookUrl?: string;
  /**
   * A recorded `docker info` (JSON) to judge instead of the live engine's: a host someone sent, or
   * a test's. The proxy is still asked.
   */
  dockerInfo?: DockerInfo;
}

async function hostOf(options: DoctorOptions): Promise<{ host?: HostCapabilities; findings: Finding[] }> {
  if (options.dockerInfo) return { host: hostCapabilitiesFrom(options.dockerInfo), findings: [] };
  try {
    return { host: await readHostCapabilities(createDockerClient(options.dockerHost, { timeoutMs: 10_000 }), { measureDisk: true }), findings: [] };
  } catch (error) {
    return {
      findings: [
        {
          check: 'docker.version',
          level: 'failure',
          message: `Docker does not answer at ${options.dockerHost}: ${(error as Error).message}`,
          fix: 'start the socket proxy (docker compose up -d socket-proxy) and check DOCKER_HOST',
        },
      ],
    };
  }
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const findings: Finding[] = [];
  const { host, findings: unreachable } = await hostOf(options);
  findings.push(...unreachable);
  if (host) findings.push(...hostFindings(host, options.dockerInfo ? 'the recorded docker info' : options.dockerHost));
  if (unreachable.length === 0) findings.push(...(await proxyFindings(options.dockerHost).catch((error: unknown) => [{ check: 'proxy', level: 'failure' as const, message: `the proxy stopped answering: ${(error as Error).message}` }])));
  findings.push(...(await githubFindings(options.app, options.githubApiUrl)));
  findings.push(...(await webhookUrlFindings(options.webhookUrl)));
  return report(findings);
}

/** Reads a recorded `docker info` file (the JSON `docker info --format '{{json .}}'` prints). */
export function readDockerInfoFile(path: string): DockerInfo {
  return JSON.parse(readFileSync(path, 'utf8')) as DockerInfo;
}
