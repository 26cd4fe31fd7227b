/**
 * Each service's config section in the all-in-one: the service reads the process's environment as
 * it would alone, except that `<SECTION>__<VARIABLE>` (SCHEDULER__LOG_LEVEL, POOL_MANAGER__HTTP_PORT)
 * wins over `<VARIABLE>` for that service only. The section is the service's name in capitals with
 * `_` for `-`; the double underscore keeps it apart from the services' own prefixed names
 * (SCHEDULER_RULES_FILE is the scheduler's variable, SCHEDULER__RULES_FILE would not be one).
 */

export const SERVICE_NAMES = ['container-executor', 'pool-manager', 'scheduler', 'webhook-gateway', 'status-reporter', 'metrics'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/**
 * Values that must differ between the six, so a shared one is never passed on: each service keeps
 * its own port (8080–8085 by default) and its own name on metrics unless its section sets them.
 */
export const SECTION_ONLY = ['HTTP_PORT', 'OTEL_SERVICE_NAME'] as const;

export function sectionOf(service: string): string {
  return `${service.toUpperCase().replace(/-/g, '_')}__`;
}

const SECTIONS = SERVICE_NAMES.map(sectionOf);

/** The environment one service reads: shared variables, minus SECTION_ONLY and other sections, plus its own section. */
export function sectionEnv(service: ServiceName, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const own = sectionOf(service);
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (SECTIONS.some((s) => name.startsWith(s)) || (SECTION_ONLY as readonly string[]).includes(name)) continue;
    out[name] = value;
  }
  for (const [name, value] of Object.entries(env)) if (name.startsWith(own) && name.length > own.length) out[name.slice(own.length)] = value;
  return out;
}

/** Shared variables the all-in-one does not pass on (SECTION_ONLY), to name at start. */
export function ignoredShared(env: NodeJS.ProcessEnv): string[] {
  return SECTION_ONLY.filter((name) => env[name] !== undefined);
}
