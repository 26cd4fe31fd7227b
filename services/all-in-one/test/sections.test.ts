import { describe, expect, it } from 'vitest';
import { describeConfig, loadConfig } from '@runnerhub/platform';
import { MODULES } from '../src/all-in-one.js';
import { ignoredShared, sectionEnv, sectionOf, SERVICE_NAMES } from '../src/sections.js';

describe('config sections of the all-in-one', () => {
  it("gives each service its section's value over the shared one, and nobody else's", () => {
    const env = { LOG_LEVEL: 'warn', DATABASE_URL: 'postgres://shared/db', SCHEDULER__LOG_LEVEL: 'debug', POOL_MANAGER__LOG_LEVEL: 'error', GF_SECURITY_ADMIN_PASSWORD__FILE: '/x' };
    expect(sectionEnv('scheduler', env)).toEqual({ LOG_LEVEL: 'debug', DATABASE_URL: 'postgres://shared/db', GF_SECURITY_ADMIN_PASSWORD__FILE: '/x' });
    expect(sectionEnv('metrics', env)).toEqual({ LOG_LEVEL: 'warn', DATABASE_URL: 'postgres://shared/db', GF_SECURITY_ADMIN_PASSWORD__FILE: '/x' });
  });

  it('keeps each service on its own port and name when HTTP_PORT and OTEL_SERVICE_NAME are set for all', () => {
    const env = { HTTP_PORT: '9000', OTEL_SERVICE_NAME: 'everyone', WEBHOOK_GATEWAY__HTTP_PORT: '9001' };
    const configs = SERVICE_NAMES.map((name) => loadConfig(MODULES[name].schema, sectionEnv(name, env)) as { http: { port: number }; telemetry: { serviceName: string } });
    const ports = configs.map((c) => c.http.port);
    expect(new Set(ports).size).toBe(SERVICE_NAMES.length);
    expect(ports[SERVICE_NAMES.indexOf('webhook-gateway')]).toBe(9001);
    expect(ports).not.toContain(9000);
    expect(configs.map((c) => c.telemetry.serviceName)).toEqual([...SERVICE_NAMES]);
    expect(ignoredShared(env)).toEqual(['HTTP_PORT', 'OTEL_SERVICE_NAME']);
  });

  it("refuses a bad value in one service's section, naming the variable", () => {
    expect(() => loadConfig(MODULES.scheduler.schema, sectionEnv('scheduler', { SCHEDULER__HTTP_PORT: 'eighty' }))).toThrow(/HTTP_PORT/);
    expect(() => loadConfig(MODULES.metrics.schema, sectionEnv('metrics', { SCHEDULER__HTTP_PORT: 'eighty' }))).not.toThrow();
  });

  it('has no section variable that is also a variable some service reads', () => {
    const variables = new Set(SERVICE_NAMES.flatMap((name) => describeConfig(MODULES[name].schema).map((row) => row.variable)));
    const sectioned = SERVICE_NAMES.flatMap((name) => [...variables].map((v) => `${sectionOf(name)}${v}`));
    expect(sectioned.filter((v) => variables.has(v))).toEqual([]);
  });
});
