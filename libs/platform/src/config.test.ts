import { describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import { ConfigError, describeConfig, env, loadConfig } from './config.js';
import { httpConfig, natsConfig, postgresConfig } from './platform-config.js';

const schema = Type.Object({
  http: httpConfig(8081),
  nats: natsConfig(),
  postgres: postgresConfig(),
  scheduler: Type.Object({
    mode: env.enum('SCHED_MODE', ['fast', 'safe'] as const, { default: 'safe', description: 'mode' }),
    pools: env.list('SCHED_POOLS', { default: [], description: 'pools' }),
    strict: env.boolean('SCHED_STRICT', { default: false, description: 'strict' }),
    name: env.string('SCHED_NAME', { description: 'a required name', pattern: '^[a-z]+$' }),
  }),
});

describe('loadConfig', () => {
  it('applies defaults, converts types and groups values', () => {
    const c = loadConfig(schema, { SCHED_NAME: 'x', HTTP_PORT: '9000', SCHED_POOLS: 'a, b,,c', SCHED_STRICT: 'true' });
    expect(c.http).toEqual({ host: '0.0.0.0', port: 9000 });
    expect(c.nats.url).toBe('nats://127.0.0.1:4222');
    expect(c.scheduler).toEqual({ mode: 'safe', pools: ['a', 'b', 'c'], strict: true, name: 'x' });
  });

  it('returns a deeply frozen object', () => {
    const c = loadConfig(schema, { SCHED_NAME: 'x' });
    expect(Object.isFrozen(c.http)).toBe(true);
    expect(() => {
      (c.http as { port: number }).port = 1;
    }).toThrow();
  });

  it('names every bad or missing variable in one error', () => {
    let error: unknown;
    try {
      loadConfig(schema, { HTTP_PORT: '70000', SCHED_MODE: 'turbo', DATABASE_URL: 'mysql://x', SCHED_STRICT: 'maybe' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const vars = (error as ConfigError).problems.map((p) => p.variable).sort();
    expect(vars).toEqual(['DATABASE_URL', 'HTTP_PORT', 'SCHED_MODE', 'SCHED_NAME', 'SCHED_STRICT']);
    expect((error as ConfigError).message).toContain('SCHED_MODE: must be one of fast, safe');
    expect((error as ConfigError).message).toContain('SCHED_NAME: is required');
  });

  it('describes every variable for the docs', () => {
    const rows = describeConfig(schema);
    expect(rows.map((r) => r.variable)).toEqual([
      'HTTP_HOST', 'HTTP_PORT', 'NATS_URL', 'NATS_TLS_CA_FILE', 'NATS_TLS_CERT_FILE', 'NATS_TLS_KEY_FILE', 'DATABASE_URL', 'DATABASE_POOL_MAX', 'SCHED_MODE', 'SCHED_POOLS', 'SCHED_STRICT', 'SCHED_NAME',
    ]);
    expect(rows.find((r) => r.variable === 'SCHED_NAME')?.required).toBe(true);
    expect(rows.find((r) => r.variable === 'HTTP_PORT')?.default).toBe(8081);
    // Only a URL variable is typed URL; another string with a pattern says its pattern.
    expect(rows.find((r) => r.variable === 'DATABASE_URL')?.type).toBe('URL (postgres://, postgresql://)');
    expect(rows.find((r) => r.variable === 'SCHED_NAME')?.type).toBe('string matching `^[a-z]+$`');
  });
});
