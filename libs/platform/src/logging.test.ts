import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logging.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { lines, destination };
}

describe('createLogger', () => {
  it('never writes a secret value, wherever it appears', () => {
    const { lines, destination } = capture();
    const secret = 'whsec-super-secret-value';
    const log = createLogger({ service: 't', level: 'info', secretNames: ['GITHUB_WEBHOOK_SECRET'], secretValues: () => [secret], destination });
    log.info({ GITHUB_WEBHOOK_SECRET: secret }, 'by key');
    log.info({ nested: { note: `prefix ${secret} suffix` } }, 'nested value');
    log.info(`in the message ${secret}`);
    log.error({ err: new Error(`failed with ${secret}`) }, 'error');
    log.info({ headers: { authorization: 'Bearer abc' }, jitConfig: 'eyJ...' }, 'always redacted keys');
    const out = lines.join('');
    expect(out).not.toContain(secret);
    expect(out).not.toContain('Bearer abc');
    expect(out).not.toContain('eyJ...');
    expect(out.match(/\[redacted\]/g)?.length).toBeGreaterThanOrEqual(6);
  });

  it('writes JSON lines with service and level names', () => {
    const { lines, destination } = capture();
    createLogger({ service: 'scheduler', level: 'info', destination }).warn({ pool: 'small' }, 'hello');
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'warn', service: 'scheduler', pool: 'small', msg: 'hello' });
  });
});
