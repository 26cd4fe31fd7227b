import { Kind, OptionalKind, Type, type Static, type TObject, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/**
 * Service configuration: one TypeBox schema per service is the source of both the TypeScript type
 * and the validation. Every leaf names the environment variable it is read from, so one error can
 * list every bad variable by name and the configuration docs can be generated from the same schema.
 */

const ENV: unique symbol = Symbol.for('runnerhub.env') as never;

export interface EnvMeta {
  variable: string;
  description: string;
  /** Shown in docs instead of the value, for defaults that depend on the machine. */
  defaultText?: string;
  /** Set by env.url only: the schemes a URL variable accepts (the docs call it a URL). */
  protocols?: readonly string[];
}

/** The variable's name and docs ride on the schema object itself, invisible to its static type. */
function leaf<T extends TSchema>(schema: T, meta: EnvMeta): T {
  (schema as unknown as Record<symbol, EnvMeta>)[ENV] = meta;
  return schema;
}

interface LeafOptions<D> {
  description: string;
  default?: D;
  defaultText?: string;
}

/** Builders for leaves that are read from one environment variable each. */
export const env = {
  string(variable: string, o: LeafOptions<string> & { minLength?: number; pattern?: string }) {
    return leaf(
      Type.String({ default: o.default, minLength: o.minLength ?? 1, pattern: o.pattern }),
      meta(variable, o),
    );
  },
  optionalString(variable: string, o: { description: string }) {
    return leaf(Type.Optional(Type.String({ minLength: 1 })), meta(variable, o));
  },
  url(variable: string, o: LeafOptions<string> & { protocols: string[] }) {
    const pattern = `^(${o.protocols.map((p) => p.replace(/[.+]/g, '\\$&')).join('|')})://.+`;
    return leaf(Type.String({ default: o.default, pattern }), { ...meta(variable, o), protocols: o.protocols });
  },
  integer(variable: string, o: LeafOptions<number> & { minimum?: number; maximum?: number }) {
    return leaf(Type.Integer({ default: o.default, minimum: o.minimum, maximum: o.maximum }), meta(variable, o));
  },
  boolean(variable: string, o: LeafOptions<boolean>) {
    return leaf(Type.Boolean({ default: o.default }), meta(variable, o));
  },
  enum<const V extends readonly string[]>(variable: string, values: V, o: LeafOptions<V[number]>) {
    return leaf(
      Type.Union(
        values.map((v) => Type.Literal(v)),
        { default: o.default },
      ) as unknown as TSchema & { static: V[number] },
      meta(variable, o),
    );
  },
  /** Comma-separated list. */
  list(variable: string, o: LeafOptions<string[]>) {
    return leaf(Type.Array(Type.String({ minLength: 1 }), { default: o.default }), meta(variable, o));
  },
};

function meta(variable: string, o: { description: string; defaultText?: string }): EnvMeta {
  return { variable, description: o.description, ...(o.defaultText ? { defaultText: o.defaultText } : {}) };
}

export function envMeta(schema: TSchema): EnvMeta | undefined {
  return (schema as unknown as Record<symbol, EnvMeta | undefined>)[ENV];
}

export interface ConfigProblem {
  variable: string;
  problem: string;
}

/** Thrown when the environment does not satisfy a service's schema; lists every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(
      `invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.problem}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

/** Reads, converts and validates every variable named by `schema`; returns a deeply frozen object. */
export function loadConfig<T extends TObject>(schema: T, source: NodeJS.ProcessEnv): Readonly<Static<T>> {
  const problems: ConfigProblem[] = [];
  const value = readObject(schema, source, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(value) as Readonly<Static<T>>;
}

function readObject(schema: TObject, source: NodeJS.ProcessEnv, problems: ConfigProblem[]) {
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(schema.properties)) {
    const m = envMeta(child);
    if (m) {
      const v = readLeaf(child, m, source, problems);
      if (v !== undefined) out[key] = v;
    } else if (child[Kind] === 'Object') {
      out[key] = readObject(child as TObject, source, problems);
    } else {
      throw new Error(`config schema: property "${key}" names no environment variable`);
    }
  }
  return out;
}

function readLeaf(schema: TSchema, m: EnvMeta, source: NodeJS.ProcessEnv, problems: ConfigProblem[]): unknown {
  const raw = source[m.variable];
  if (raw === undefined || raw === '') {
    if (schema.default !== undefined) return structuredClone(schema.default);
    if (isOptional(schema)) return undefined;
    problems.push({ variable: m.variable, problem: `is required (${m.description})` });
    return undefined;
  }
  const candidate = schema[Kind] === 'Array' ? raw.split(',').map((s) => s.trim()).filter(Boolean) : Value.Convert(schema, raw.trim());
  if (!Value.Check(schema, candidate)) {
    problems.push({ variable: m.variable, problem: `${describeProblem(schema, candidate)} (got ${JSON.stringify(raw)})` });
    return undefined;
  }
  return candidate;
}

function isOptional(schema: TSchema): boolean {
  return (schema as unknown as Record<symbol, unknown>)[OptionalKind] === 'Optional';
}

function describeProblem(schema: TSchema, value: unknown): string {
  const first = Value.Errors(schema, value).First();
  if (schema[Kind] === 'Union') {
    const options = (schema.anyOf as TSchema[]).map((s) => String(s.const)).join(', ');
    return `must be one of ${options}`;
  }
  if (schema.pattern && typeof value === 'string') return `must match ${schema.pattern as string}`;
  return first ? first.message.toLowerCase() : 'is invalid';
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Every variable a schema reads, with its docs, in schema order (for generated docs). */
export function describeConfig(schema: TObject): Array<EnvMeta & { default?: unknown; type: string; required: boolean }> {
  const rows: Array<EnvMeta & { default?: unknown; type: string; required: boolean }> = [];
  const walk = (s: TObject) => {
    for (const child of Object.values(s.properties)) {
      const m = envMeta(child);
      if (m) rows.push({ ...m, default: child.default, type: typeName(child, m), required: child.default === undefined && !isOptional(child) });
      else if (child[Kind] === 'Object') walk(child as TObject);
    }
  };
  walk(schema);
  return rows;
}

function typeName(s: TSchema, m: EnvMeta): string {
  if (m.protocols) return `URL (${m.protocols.map((p) => `${p}://`).join(', ')})`;
  switch (s[Kind]) {
    case 'Union':
      return (s.anyOf as TSchema[]).map((x) => String(x.const)).join(' \\| ');
    case 'Array':
      return 'comma-separated list';
    case 'Integer':
      return 'integer';
    case 'Boolean':
      return 'true \\| false';
    default:
      return s.pattern ? `string matching \`${s.pattern as string}\`` : 'string';
  }
}
