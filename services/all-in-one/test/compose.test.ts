import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeConfig, loadConfig } from '@runnerhub/platform';
import { parse } from 'yaml';
import { MODULES } from '../src/all-in-one.js';
import { sectionEnv, SERVICE_NAMES } from '../src/sections.js';

// docker-compose.all-in-one.yml, read as compose reads it (no engine here runs compose: the compose
// smoke test owns fixed ports). What a wrong line would break on a NAS: a service on another port
// than Prometheus scrapes, a name the other containers cannot resolve, a variable nothing reads.
interface Service {
  extends?: { file: string; service: string };
  environment?: Record<string, string>;
  networks?: Record<string, { aliases?: string[] } | null>;
  ports?: string[];
  healthcheck?: { test: string[] };
}
const read = (file: string) => parse(readFileSync(new URL(`../../../${file}`, import.meta.url), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const allInOne = read('docker-compose.all-in-one.yml');
const six = read('docker-compose.yml');
const runnerhub = allInOne.services.runnerhub!;

describe('docker-compose.all-in-one.yml', () => {
  it('takes every other service from docker-compose.yml, and runs none of the six on its own', () => {
    for (const [name, s] of Object.entries(allInOne.services).filter(([n]) => n !== 'runnerhub')) {
      expect(s.extends, name).toEqual({ file: 'docker-compose.yml', service: name });
      expect(six.services[name], name).toBeDefined();
    }
    for (const name of SERVICE_NAMES) expect(allInOne.services[name], name).toBeUndefined();
  });

  it("answers to each service's name on the port Prometheus scrapes, and checks all six for health", () => {
    expect(new Set(runnerhub.networks?.runnerhub?.aliases)).toEqual(new Set(SERVICE_NAMES));
    // Compose's interpolation: the default, or a stand-in for a value .env must give.
    const env = Object.fromEntries(Object.entries(runnerhub.environment ?? {}).map(([k, v]) => [k, v.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1').replace(/\$\{[A-Z_]+:\?[^}]*\}/g, '1')]));
    const ports = SERVICE_NAMES.map((name) => (loadConfig(MODULES[name].schema, sectionEnv(name, env)) as { http: { port: number } }).http.port);
    const scraped = readFileSync(new URL('../../../deploy/prometheus/prometheus.yml', import.meta.url), 'utf8');
    SERVICE_NAMES.forEach((name, i) => expect(scraped, name).toContain(`"${name}:${ports[i]}"`));
    for (const port of ports) expect(runnerhub.healthcheck?.test.join(' '), String(port)).toContain(String(port));
  });

  it('sets only variables some service (or its secrets) reads', () => {
    const known = new Set(
      SERVICE_NAMES.flatMap((name) => [...describeConfig(MODULES[name].schema).map((row) => row.variable), ...MODULES[name].secrets.flatMap((s) => [s.name, `${s.name}_FILE`])]),
    );
    expect(Object.keys(runnerhub.environment ?? {}).filter((v) => !known.has(v))).toEqual([]);
  });
});
