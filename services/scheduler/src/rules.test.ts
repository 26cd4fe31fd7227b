import { describe, expect, it } from 'vitest';
import { capsOf, classify, parseRules, RulesFileError } from './rules.js';

describe('scheduling rules', () => {
  const rules = parseRules(`
priorities:
  - { repository: "acme/infra", class: critical }
  - { repository: "acme/*", workflow: "Release*", branch: main, class: high }
  - { repository: "ACME/sandbox-*", class: low }
caps:
  perRepository: 4
  repositories: { acme/monorepo: 8 }
  organizations: { acme: 16 }
`);

  it('gives the class of the first matching rule, normal otherwise', () => {
    expect(classify(rules, { repository: 'acme/infra', workflow: 'CI', branch: 'dev' })).toBe('critical');
    expect(classify(rules, { repository: 'acme/app', workflow: 'Release build', branch: 'main' })).toBe('high');
    expect(classify(rules, { repository: 'acme/app', workflow: 'Release build', branch: 'feature' })).toBe('normal');
    expect(classify(rules, { repository: 'acme/sandbox-42', workflow: 'CI', branch: 'x' })).toBe('low');
    expect(classify(rules, { repository: 'other/app', workflow: 'Release', branch: 'main' })).toBe('normal');
    // Glob characters only: a dot in a pattern is a dot.
    expect(classify(parseRules('priorities:\n  - { repository: "a.b/c", class: low }'), { repository: 'axb/c', workflow: '', branch: '' })).toBe('normal');
  });

  it('takes the named cap before the default, case-insensitively', () => {
    expect(capsOf(rules.caps, 'Acme/Monorepo', 'acme')).toEqual({ repository: 8, organization: 16 });
    expect(capsOf(rules.caps, 'other/x', 'other')).toEqual({ repository: 4, organization: 0 });
    expect(parseRules('').caps).toEqual({ perRepository: 0, perOrganization: 0, repositories: {}, organizations: {} });
  });

  it('names the field of every mistake', () => {
    const error = (text: string) => {
      try {
        parseRules(text);
        return 'accepted';
      } catch (e) {
        expect(e).toBeInstanceOf(RulesFileError);
        return (e as Error).message;
      }
    };
    expect(error('priorities:\n  - { repository: x, class: urgent }')).toMatch(/priorities\.0\.class/);
    expect(error('priorities:\n  - { class: high }')).toMatch(/priorities\.0: give at least one of repository, workflow or branch/);
    expect(error('caps:\n  perRepository: -1')).toMatch(/caps\.perRepository/);
    expect(error('caps:\n  repositories: { noslash: 2 }')).toMatch(/caps\.repositories/);
    expect(error('caps: {')).toMatch(/not valid YAML/);
  });
});
