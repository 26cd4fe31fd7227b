import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse } from 'yaml';

/**
 * Scheduling rules from SCHEDULER_RULES_FILE: which priority class a job gets (first matching rule
 * wins; `normal` when none does) and how many jobs of one repository or organization may be
 * pending-for-a-runner or running at once.
 *
 *   priorities:
 *     - { repository: "acme/infra", class: critical }
 *     - { repository: "acme/*", workflow: "Release*", branch: main, class: high }
 *     - { repository: "acme/sandbox-*", class: low }
 *   caps:
 *     perRepository: 4              # every repository; 0 = no cap
 *     perOrganization: 10
 *     repositories: { acme/monorepo: 8 }
 *     organizations: { acme: 16 }
 *
 * Patterns are globs (`*` is any run of characters), compared case-insensitively; a rule matches
 * when every field it gives matches.
 */

export type PriorityWord = 'critical' | 'high' | 'normal' | 'low';
export const PRIORITY_ORDER: readonly PriorityWord[] = ['critical', 'high', 'normal', 'low'];

const Pattern = Type.String({ minLength: 1, maxLength: 200 });
const Limit = Type.Integer({ minimum: 0, maximum: 100_000 });
const RulesSchema = Type.Object(
  {
    priorities: Type.Array(
      Type.Object(
        {
          repository: Type.Optional(Pattern),
          workflow: Type.Optional(Pattern),
          branch: Type.Optional(Pattern),
          class: Type.Union(PRIORITY_ORDER.map((w) => Type.Literal(w))),
        },
        { additionalProperties: false },
      ),
      { default: [] },
    ),
    caps: Type.Object(
      {
        perRepository: Type.Integer({ minimum: 0, default: 0 }),
        perOrganization: Type.Integer({ minimum: 0, default: 0 }),
        repositories: Type.Record(Type.String({ pattern: '^[^/\\s]+/[^/\\s]+$' }), Limit, { default: {}, additionalProperties: false }),
        organizations: Type.Record(Type.String({ pattern: '^[^/\\s]+$' }), Limit, { default: {}, additionalProperties: false }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);
export type SchedulingRules = Static<typeof RulesSchema>;
export type Caps = SchedulingRules['caps'];

export const NO_RULES: SchedulingRules = { priorities: [], caps: { perRepository: 0, perOrganization: 0, repositories: {}, organizations: {} } };

export class RulesFileError extends Error {}

export function parseRules(text: string): SchedulingRules {
  let document: unknown;
  try {
    document = parse(text) ?? {};
  } catch (error) {
    throw new RulesFileError(`not valid YAML: ${(error as Error).message}`);
  }
  const withDefaults = Value.Default(RulesSchema, structuredClone(document));
  const problems = [...Value.Errors(RulesSchema, withDefaults)].map((e) => `${e.path.replace(/^\//, '').replace(/\//g, '.') || '(top level)'}: ${e.message}`);
  if (problems.length > 0) throw new RulesFileError(problems.slice(0, 10).join('\n'));
  const rules = withDefaults as SchedulingRules;
  rules.priorities.forEach((r, i) => {
    if (!r.repository && !r.workflow && !r.branch) throw new RulesFileError(`priorities.${i}: give at least one of repository, workflow or branch`);
  });
  return rules;
}

const globs = new Map<string, RegExp>();
function glob(pattern: string): RegExp {
  let re = globs.get(pattern);
  if (!re) {
    re = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
    globs.set(pattern, re);
  }
  return re;
}

export interface ClassifiedJob {
  /** owner/name */
  repository: string;
  workflow: string;
  branch: string;
}

export function classify(rules: SchedulingRules, job: ClassifiedJob): PriorityWord {
  const rule = rules.priorities.find(
    (r) => (!r.repository || glob(r.repository).test(job.repository)) && (!r.workflow || glob(r.workflow).test(job.workflow)) && (!r.branch || glob(r.branch).test(job.branch)),
  );
  return rule?.class ?? 'normal';
}

/** The cap of a repository and of its organization; 0 = none. */
export function capsOf(caps: Caps, repository: string, organization: string): { repository: number; organization: number } {
  const repoCap = Object.entries(caps.repositories).find(([name]) => name.toLowerCase() === repository.toLowerCase())?.[1];
  const orgCap = Object.entries(caps.organizations).find(([name]) => name.toLowerCase() === organization.toLowerCase())?.[1];
  return { repository: repoCap ?? caps.perRepository, organization: orgCap ?? caps.perOrganization };
}
