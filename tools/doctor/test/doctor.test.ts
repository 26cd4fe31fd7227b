import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { promisify } from 'node:util';
import { startGitHubSim, type GitHubSim } from '@runnerhub/github-sim';
import { DOCKER_PROXY_URL, repoRoot } from '@runnerhub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_EVENT_SETTINGS, APP_PERMISSIONS, appSettingFindings, main, readDockerInfoFile, runDoctor, type DoctorOptions, type Finding } from '../src/index.js';

// The doctor against this machine: the real Docker engine behind the real socket proxy, the
// simulator as GitHub (its App, its clock), a local stand-in for the webhook-gateway's answer; and
// against the recorded docker info of a Synology without CFS quota.
const run = promisify(execFile);
const SYNOLOGY = `${repoRoot}libs/docker/test/hosts/synology-dsm72.json`;
const dockerHost = DOCKER_PROXY_URL.replace(/^http:/, 'tcp:');
let sim: GitHubSim;
let gateway: Server;
let gatewayUrl = '';

const byCheck = (findings: Finding[], check: string) => findings.filter((f) => f.check === check);
const options = (): DoctorOptions => ({ dockerHost, githubApiUrl: sim.url, app: { apiUrl: sim.url, appId: sim.app.id, privateKey: sim.app.privateKey }, webhookUrl: gatewayUrl });

beforeAll(async () => {
  sim = await startGitHubSim();
  sim.createInstallation({ account: 'acme', repositories: ['app'] });
  // The gateway refuses an unsigned delivery with 401; that is what the doctor looks for.
  gateway = createServer((_req, res) => res.writeHead(401).end('{"message":"bad signature"}'));
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
  gatewayUrl = `http://127.0.0.1:${(gateway.address() as { port: number }).port}/webhooks/github`;
});

afterAll(async () => {
  await sim?.close();
  gateway?.close();
});

describe('doctor on this machine', () => {
  it('finds it ready: Docker and its limits, the proxy refusing what it must, the clock, the App, the webhook URL', async () => {
    const doctor = await runDoctor(options());
    const failed = doctor.findings.filter((f) => f.level === 'failure');
    expect(failed).toEqual([]);
    expect(doctor.exitCode).toBe(0);
    for (const check of ['docker.version', 'docker.architecture', 'proxy.allowed', 'proxy.plugins', 'proxy.exec', 'proxy.build', 'clock', 'github.app', 'github.permissions', 'github.events', 'github.installations', 'webhook.url']) {
      expect(byCheck(doctor.findings, check).map((f) => f.level), check).toEqual(['ok']);
    }
    // The proxy cannot read bodies: the privileged probe reaches Docker, which creates nothing.
    expect(byCheck(doctor.findings, 'proxy.privileged-create')[0]).toMatchObject({ level: 'warning', message: expect.stringContaining('nothing was made') as unknown });
    const containers = (await (await fetch(`${DOCKER_PROXY_URL}/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ name: ['runnerhub-doctor-probe'] }))}`)).json()) as unknown[];
    expect(containers).toEqual([]);
    expect(byCheck(doctor.findings, 'docker.disk')[0]?.message).toMatch(/GiB free under/);
  }, 60_000);

  it('with the recorded docker info of a Synology without CFS quota, says cpus becomes a weight and how to fix it, and still lets jobs run', async () => {
    const doctor = await runDoctor({ ...options(), dockerInfo: readDockerInfoFile(SYNOLOGY) });
    const cpu = byCheck(doctor.findings, 'docker.cpu');
    expect(cpu).toHaveLength(1);
    expect(cpu[0]).toMatchObject({ level: 'warning', message: expect.stringMatching(/no CFS quota .*weight \(CpuShares\), not a cap/) as unknown, fix: expect.stringContaining('CFS bandwidth') as unknown });
    expect(byCheck(doctor.findings, 'docker.version')[0]?.message).toContain('Synology NAS');
    expect(byCheck(doctor.findings, 'docker.sudo')[0]).toMatchObject({ level: 'ok' });
    expect(doctor.exitCode).toBe(0);
  }, 60_000);

  it('on a daemon that sets no-new-privileges for every container, says what it means for sudo pools', async () => {
    const doctor = await runDoctor({ ...options(), dockerInfo: { ...readDockerInfoFile(SYNOLOGY), SecurityOptions: ['name=seccomp,profile=builtin', 'name=no-new-privileges'] } });
    expect(byCheck(doctor.findings, 'docker.sudo')[0]).toMatchObject({ level: 'info', message: expect.stringContaining('pools with sudo: true lift it for their own runners (no-new-privileges:false)') as unknown });
  }, 60_000);

  it('fails on a clock a few minutes off GitHub, naming the JWT and the fix', async () => {
    sim.advanceClock(5 * 60_000);
    const doctor = await runDoctor(options());
    expect(byCheck(doctor.findings, 'clock')[0]).toMatchObject({ level: 'failure', message: expect.stringMatching(/30\d s behind GitHub's: GitHub refuses the App's JWT/) as unknown, fix: expect.stringContaining('NTP') as unknown });
    expect(doctor.exitCode).toBe(1);
  }, 60_000);
});

describe("the App's settings against docs/github-app.md", () => {
  it('lists every permission and event the doctor checks, as the App settings page names them', () => {
    const doc = readFileSync(`${repoRoot}docs/github-app.md`, 'utf8');
    for (const p of APP_PERMISSIONS) expect(doc, p.setting).toContain(`**${p.setting}**`);
    for (const e of APP_EVENT_SETTINGS) expect(doc, e).toContain(`**${e}**`);
  });

  it('fails a missing required permission or event, warns for a pool kind, notes an optional one', () => {
    const findings = appSettingFindings({ permissions: { metadata: 'read', actions: 'read', administration: 'read' }, events: ['workflow_job'] });
    const levels = Object.fromEntries(findings.map((f) => [f.message.split(':')[0], f.level]));
    expect(levels).toMatchObject({ 'the App has administration': 'warning', 'the App has organization_self_hosted_runners': 'warning', 'the App has checks': 'info' });
    expect(findings.find((f) => f.check === 'github.events')).toMatchObject({ level: 'failure', message: expect.stringContaining('workflow_run') as unknown });
    expect(appSettingFindings({ permissions: {}, events: [] }).filter((f) => f.level === 'failure').map((f) => f.message)).toEqual([
      expect.stringContaining('actions: none, needs read'),
      expect.stringContaining('metadata: none, needs read'),
      expect.stringContaining('workflow_job, workflow_run'),
    ]);
  });
});

describe('the doctor command', () => {
  it('exits 2 on an option it does not know, and 0 or 1 as the findings say (make doctor runs the bin)', async () => {
    const lines: string[] = [];
    expect(await main(['--frobnicate'], {}, (t) => lines.push(t))).toBe(2);
    expect(lines.join('\n')).toMatch(/usage: runnerhub-doctor/);
    const bin = await run(process.execPath, [`${repoRoot}tools/doctor/bin/runnerhub-doctor.js`, '--docker-host', dockerHost, '--github-api-url', sim.url, '--docker-info', SYNOLOGY], { env: { PATH: process.env['PATH'] } }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );
    // The sim's clock is 5 minutes ahead now (test above): the command must say so and exit 1.
    expect(bin.code).toBe(1);
    expect(bin.stdout).toMatch(/WARN {2}docker\.cpu +no CFS quota/);
    expect(bin.stdout).toMatch(/fix: nothing to do for jobs to run; to cap CPU/);
    expect(bin.stdout).toMatch(/FAIL {2}clock/);
  }, 120_000);
});
