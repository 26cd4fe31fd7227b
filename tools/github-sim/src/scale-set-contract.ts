import { createRequire } from 'node:module';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

/**
 * The scale-set side's contract (contracts/scale-set.json, prose in contracts/scale-set.md): the
 * simulator checks every request it accepts and every answer it gives on the Actions service
 * against it, as strictly as contract.ts checks the REST side against GitHub's OpenAPI.
 */

const require = createRequire(import.meta.url);
type AddFormats = (ajv: Ajv) => Ajv;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? addFormatsModule) as unknown as AddFormats;

const ID = 'https://github-sim/contracts/scale-set.json';

export type ScaleSetHost = 'api' | 'tenant' | 'queue';

interface ResponseSpec {
  body?: unknown;
  empty?: boolean;
  embedded?: { field: string; schema: unknown };
}

export interface ScaleSetOperation {
  id: string;
  host: ScaleSetHost;
  method: string;
  path: string;
  source: string[];
  request: { headers?: unknown; query?: unknown; body?: unknown };
  responses: Record<string, ResponseSpec>;
}

interface ContractDocument {
  errorDefaults: Record<ScaleSetHost, { statuses: number[] }>;
  operations: ScaleSetOperation[];
}

export interface ScaleSetRequest {
  headers: Record<string, string | string[] | undefined>;
  query: Record<string, string>;
  /** Parsed JSON, or undefined when the request had no body. */
  body: unknown;
}

function format(where: string, errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).slice(0, 10).map((e) => {
    const extra = e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : '';
    return `${where}${e.instancePath || '/'} ${e.message ?? 'is invalid'}${extra}`;
  });
}

export class ScaleSetContract {
  private readonly document: ContractDocument;
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor() {
    this.document = structuredClone(require('../contracts/scale-set.json')) as ContractDocument;
    this.ajv = new Ajv({ strict: false, allErrors: true, coerceTypes: false });
    addFormats(this.ajv);
    this.ajv.addSchema(this.document, ID);
  }

  operation(id: string): ScaleSetOperation {
    const operation = this.document.operations.find((o) => o.id === id);
    if (!operation) throw new Error(`scale-set operation ${id} is not in contracts/scale-set.json`);
    return operation;
  }

  operations(): ScaleSetOperation[] {
    return this.document.operations;
  }

  checkRequest(id: string, request: ScaleSetRequest): string[] {
    const { operation, index } = this.find(id);
    const errors: string[] = [];
    const pointer = `#/operations/${index}/request`;
    if (operation.request.headers !== undefined) {
      const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(', ') : v]));
      const validate = this.compile(`${pointer}/headers`);
      if (!validate(headers)) errors.push(...format('header', validate.errors).map((e) => e.replace('header/', 'header ')));
    }
    const query = this.compile(`${pointer}/query`, operation.request.query === undefined);
    if (!query(request.query)) errors.push(...format('query', query.errors));
    if (operation.request.body === undefined) {
      if (request.body !== undefined) errors.push(`${operation.id} takes no request body`);
    } else if (request.body === undefined) {
      errors.push('request body is required');
    } else {
      const validate = this.compile(`${pointer}/body`);
      if (!validate(request.body)) errors.push(...format('body', validate.errors));
    }
    return errors;
  }

  checkResponse(id: string, status: number, body: unknown): string[] {
    const { operation, index } = this.find(id);
    const declared = operation.responses[String(status)];
    if (!declared) {
      const defaults = this.document.errorDefaults[operation.host];
      if (!defaults.statuses.includes(status)) return [`status ${status} is not a documented response of ${operation.id}`];
      const validate = this.compile(`#/errorDefaults/${operation.host}/body`);
      return validate(body) ? [] : format(`response ${status}`, validate.errors);
    }
    if (declared.empty) return body === undefined ? [] : [`response ${status} of ${operation.id} must have no body`];
    const pointer = `#/operations/${index}/responses/${status}`;
    const validate = this.compile(`${pointer}/body`);
    if (!validate(body)) return format(`response ${status}`, validate.errors);
    if (!declared.embedded) return [];
    const text = (body as Record<string, unknown>)[declared.embedded.field];
    let inner: unknown;
    try {
      inner = JSON.parse(String(text));
    } catch {
      return [`response ${status} ${declared.embedded.field} is not a JSON string`];
    }
    const embedded = this.compile(`${pointer}/embedded/schema`);
    return embedded(inner) ? [] : format(`response ${status} ${declared.embedded.field}`, embedded.errors);
  }

  private find(id: string): { operation: ScaleSetOperation; index: number } {
    const index = this.document.operations.findIndex((o) => o.id === id);
    if (index < 0) throw new Error(`scale-set operation ${id} is not in contracts/scale-set.json`);
    return { operation: this.document.operations[index]!, index };
  }

  /** `empty` compiles "no query parameters at all" for operations that declare none. */
  private compile(pointer: string, empty = false): ValidateFunction {
    const key = empty ? 'empty-query' : pointer;
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = empty ? this.ajv.compile({ type: 'object', maxProperties: 0 }) : this.ajv.compile({ $ref: `${ID}${pointer}` });
      this.compiled.set(key, validate);
    }
    return validate;
  }
}
