import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { NatsConnection } from '@nats-io/transport-node';
import { startNatsServer, type NatsServer } from '@runnerhub/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config.js';
import { createLogger } from '../src/logging.js';
import { connectNats, natsTlsSettings } from '../src/nats/connection.js';

// NATS over TLS with a certificate per service, mapped to a user with only its own subjects
// (verify_and_map): what an executor on another host uses to reach NATS over the network.

const log = createLogger({ service: 't', level: 'fatal', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

/** A CA, a server certificate for 127.0.0.1 and client certificates named CN=<service>, with openssl. */
function makeCertificates(dir: string, clients: string[]): void {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=runnerhub-test-ca');
  const sign = (name: string, subject: string, ext: string) => {
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
    writeFileSync(join(dir, `${name}.ext`), ext);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`);
  };
  sign('server', '/CN=nats', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  for (const c of clients) sign(c, `/CN=${c}`, 'extendedKeyUsage=clientAuth\n');
}

describe('NATS over TLS with a certificate per service', () => {
  let dir: string;
  let server: NatsServer;
  const open: NatsConnection[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rh-nats-tls-'));
    makeCertificates(dir, ['scheduler', 'stranger']);
    writeFileSync(
      join(dir, 'nats.conf'),
      `tls { cert_file: "${dir}/server.pem", key_file: "${dir}/server.key", ca_file: "${dir}/ca.pem", verify_and_map: true }
authorization { users = [
  { user: "CN=scheduler", permissions: { publish: ["job.>", "_INBOX.>"], subscribe: ["gh.>", "_INBOX.>"] } }
] }
`,
    );
    server = await startNatsServer({ args: ['-c', join(dir, 'nats.conf')] });
  });
  afterAll(async () => {
    for (const nc of open) await nc.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const connect = async (client: string, name = client) => {
    const nc = await connectNats({ servers: server.url, name, log, timeoutMs: 5000, tls: natsTlsSettings({ caFile: `${dir}/ca.pem`, certFile: `${dir}/${client}.pem`, keyFile: `${dir}/${client}.key` }) });
    open.push(nc);
    return nc;
  };

  it("publishes its own subjects, and a subject it does not own is refused by the server", async () => {
    const nc = await connect('scheduler');
    const errors: string[] = [];
    void (async () => {
      for await (const s of nc.status()) if (s.type === 'error') errors.push(String(s.error));
    })();
    nc.publish('job.queued', 'ok');
    await nc.flush();
    expect(errors).toEqual([]);
    // runner.requested belongs to the pool-manager.
    nc.publish('runner.requested', 'not mine');
    await nc.flush();
    await expect.poll(() => errors.join('\n'), { timeout: 5000 }).toMatch(/permissions violation for publish/i);
  });

  it('refuses a client with no certificate, and one whose certificate maps to no user', async () => {
    await expect(connectNats({ servers: server.url, name: 'plain', log, timeoutMs: 3000, tls: natsTlsSettings({ caFile: `${dir}/ca.pem` }) })).rejects.toThrow();
    await expect(connect('stranger')).rejects.toThrow();
  });

  it('names the variable of a certificate without its key, or of a file it cannot read', () => {
    expect(() => natsTlsSettings({ certFile: `${dir}/scheduler.pem` })).toThrow(ConfigError);
    expect(() => natsTlsSettings({ certFile: `${dir}/scheduler.pem` })).toThrow(/NATS_TLS_KEY_FILE/);
    expect(() => natsTlsSettings({ caFile: `${dir}/missing.pem` })).toThrow(/NATS_TLS_CA_FILE: cannot read/);
    expect(natsTlsSettings({})).toBeUndefined();
  });
});
