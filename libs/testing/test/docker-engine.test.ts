import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTestImage, startDockerEngine, type DockerEngine } from '../src/index.js';

// A second engine is only worth having if it is really another host: its own images and
// containers, a network of its own from which the test's servers are reached over the veth only,
// a socket proxy in front, and nothing left once it is destroyed.

describe('startDockerEngine', () => {
  let engine: DockerEngine;
  let server: Server;
  let image: string;

  beforeAll(async () => {
    image = await ensureTestImage();
    engine = await startDockerEngine({ images: [image], liveRestore: true });
    server = createServer((_req, res) => res.end('from the host namespace'));
    await new Promise<void>((resolve) => server.listen(0, engine.hostAddress, resolve));
  }, 180_000);

  afterAll(async () => {
    server?.close();
    await engine?.destroy();
  }, 60_000);

  it('is another engine: its own data root, bridge and images, none of the shared engine\'s containers', async () => {
    const info = JSON.parse(await engine.docker(['info', '--format', '{{json .}}'])) as { DockerRootDir: string; Containers: number; LiveRestoreEnabled: boolean };
    expect(info.DockerRootDir).toBe(engine.dataRoot);
    expect(info.Containers).toBe(0);
    expect(info.LiveRestoreEnabled).toBe(true);
    expect((await engine.docker(['images', '--format', '{{.Repository}}:{{.Tag}}'])).trim().split('\n')).toEqual([image]);
    const bridge = await engine.docker(['network', 'inspect', 'bridge', '--format', '{{(index .IPAM.Config 0).Subnet}}']);
    expect(bridge.trim()).toMatch(/^10\.202\.\d+\.0\/24$/);
  });

  it('reaches the host namespace only over the veth, and its loopback is its own', async () => {
    const port = (server.address() as { port: number }).port;
    const inNamespace = async (script: string): Promise<string> => {
      const child = engine.spawn(process.execPath, ['-e', script]);
      let text = '';
      child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
      await new Promise((resolve) => child.once('exit', resolve));
      return text.trim();
    };
    expect(await inNamespace(`fetch('http://${engine.hostAddress}:${port}/').then(r => r.text()).then(t => console.log(t))`)).toBe('from the host namespace');
    // The same server is not on the engine host's loopback, nor is the shared socket proxy.
    const connect = (p: number) => `require('net').connect(${p}, '127.0.0.1').on('connect', () => { console.log('open'); process.exit(0) }).on('error', e => console.log(e.code))`;
    expect(await inNamespace(connect(port))).toBe('ECONNREFUSED');
  });

  it('keeps a container through a dockerd kill and restart (live restore), and its socket proxy answers in the namespace', async () => {
    const id = (await engine.docker(['run', '-d', '--label', 'rh-engine-test=1', image, 'sleep', '300'])).trim();
    await engine.kill();
    await engine.start();
    expect((await engine.docker(['inspect', '--format', '{{.State.Running}}', id])).trim()).toBe('true');
    const probe = engine.spawn(process.execPath, ['-e', `fetch('${engine.proxyUrl.replace('tcp:', 'http:')}/_ping').then(r => console.log(String(r.status))); fetch('${engine.proxyUrl.replace('tcp:', 'http:')}/plugins').then(r => console.log(String(r.status)))`]);
    let seen = '';
    probe.stdout?.on('data', (d: Buffer) => (seen += d.toString()));
    await new Promise((resolve) => probe.once('exit', resolve));
    expect(seen.trim().split('\n').sort()).toEqual(['200', '403']);
  }, 180_000);

  it('leaves no namespace, interface, process, mount or data root once destroyed', async () => {
    const extra = await startDockerEngine({ images: [image], dataRootMb: 256 });
    await extra.docker(['run', '-d', image, 'sleep', '301']);
    expect(existsSync(extra.dataRoot)).toBe(true);
    await extra.destroy();
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(extra.netns);
    expect(execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' })).not.toContain(`rhe${extra.id}`);
    expect(readFileSync('/proc/mounts', 'utf8')).not.toContain(`rh-engine-${extra.id}`);
    expect(execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' })).not.toContain(`rh-engine-${extra.id}/`);
    expect(existsSync(extra.dataRoot)).toBe(false);
    expect(execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' })).not.toMatch(/^sleep 301$/m);
  }, 180_000);
});
