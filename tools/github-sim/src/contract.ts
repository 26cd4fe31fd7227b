import { createRequire } from 'node:module';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

/**
 * GitHub's published OpenAPI descriptions are the contract: every REST request and response the
 * simulator handles, and every webhook it sends, is checked against them. Schemas are compiled on
 * first use, by JSON pointer into the description, so `$ref`s resolve exactly as GitHub wrote them.
 */

const require = createRequire(import.meta.url);
// ajv-formats ships CommonJS with `exports.default`; under NodeNext the default import is the module.
type AddFormats = (ajv: Ajv) => Ajv;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? addFormatsModule) as unknown as AddFormats;

interface Operation {
  operationId: string;
  parameters?: Reference[];
  requestBody?: Reference;
  responses: Record<string, Reference>;
}
type Reference = { $ref?: string } & Record<string, unknown>;
interface OpenApiDocument {
  paths?: Record<string, Record<string, Operation>>;
  webhooks?: Record<string, Record<string, Operation>>;
  components: Record<string, Record<string, unknown>>;
}

export interface RouteMatch {
  operationId: string;
  /** OpenAPI path template, e.g. /repos/{owner}/{repo}/actions/runners. */
  template: string;
  pointer: string;
  operation: Operation;
}

export interface CheckResult {
  operationId: string | null;
  errors: string[];
}

const REST_ID = 'https://api.github.com/openapi.json';
const WEBHOOKS_ID = 'https://api.github.com/openapi-webhooks.json';

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function formatErrors(where: string, errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).slice(0, 10).map((e) => `${where}${e.instancePath || '/'} ${e.message ?? 'is invalid'}${
    e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : ''
  }${e.keyword === 'enum' ? ` (${JSON.stringify((e.params as { allowedValues?: unknown }).allowedValues)})` : ''}`);
}

export class Contract {
  private readonly ajv: Ajv;
  private readonly rest: OpenApiDocument;
  private readonly webhooks: OpenApiDocument;
  private readonly routes: { method: string; regex: RegExp; match: RouteMatch }[] = [];
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor() {
    this.rest = adaptNullable(fixKnownDefects(structuredClone(require('@octokit/openapi/generated/api.github.com.json')) as OpenApiDocument));
    this.webhooks = adaptNullable(structuredClone(require('@octokit/openapi-webhooks/generated/api.github.com.json')) as OpenApiDocument);
    // OpenAPI 3.0 schemas carry `nullable`, `example` and x- extensions; they are not JSON Schema
    // meta-valid, so skip meta validation and ignore unknown keywords.
    this.ajv = new Ajv({ strict: false, validateSchema: false, allErrors: true, coerceTypes: false });
    addFormats(this.ajv);
    this.ajv.addSchema(this.rest, REST_ID);
    this.ajv.addSchema(this.webhooks, WEBHOOKS_ID);
    for (const [template, item] of Object.entries(this.rest.paths ?? {})) {
      const regex = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`);
      for (const [method, operation] of Object.entries(item)) {
        if (typeof operation !== 'object' || !('operationId' in operation)) continue;
        this.routes.push({
          method: method.toUpperCase(),
          regex,
          match: { operationId: operation.operationId, template, operation, pointer: `#/paths/${escapePointer(template)}/${method}` },
        });
      }
    }
    // A literal segment beats a parameter (/app/hook/deliveries vs /app/installations/{id}).
    this.routes.sort((a, b) => b.match.template.replace(/\{[^}]+\}/g, '').length - a.match.template.replace(/\{[^}]+\}/g, '').length);
  }

  findOperation(method: string, path: string): RouteMatch | undefined {
    return this.routes.find((r) => r.method === method && r.regex.test(path))?.match;
  }

  checkRequest(route: RouteMatch, query: Record<string, string>, body: unknown): string[] {
    const errors: string[] = [];
    for (const [index, raw] of (route.operation.parameters ?? []).entries()) {
      const parameter = this.resolve(this.rest, raw) as { in: string; name: string; required?: boolean; schema?: unknown };
      if (parameter.in !== 'query') continue;
      const value = query[parameter.name];
      if (value === undefined) {
        if (parameter.required) errors.push(`query ${parameter.name} is required`);
        continue;
      }
      const pointer = raw.$ref ? `${raw.$ref}/schema` : `${route.pointer}/parameters/${index}/schema`;
      const validate = this.compile(REST_ID, pointer);
      const coerced = coerceQueryValue(value, parameter.schema);
      if (!validate(coerced)) errors.push(...formatErrors(`query ${parameter.name}`, validate.errors));
    }
    if (route.operation.requestBody) {
      const pointer = route.operation.requestBody.$ref ?? `${route.pointer}/requestBody`;
      const requestBody = this.resolve(this.rest, route.operation.requestBody) as { required?: boolean; content?: Record<string, unknown> };
      if (body === undefined || body === null) {
        if (requestBody.required) errors.push('request body is required');
      } else if (requestBody.content?.['application/json']) {
        const validate = this.compile(REST_ID, `${pointer}/content/application~1json/schema`);
        if (!validate(body)) errors.push(...formatErrors('body', validate.errors));
      }
    }
    return errors;
  }

  checkResponse(route: RouteMatch, status: number, body: unknown): string[] {
    const declared = route.operation.responses[String(status)];
    if (!declared) {
      // GitHub documents 401, 403 (permissions, rate limits), 404 (a resource the token cannot
      // see) and 5xx only where they are special; they still have to carry GitHub's error shape.
      if (status === 401 || status === 403 || status === 404 || status === 429 || status >= 500) {
        const validate = this.compile(REST_ID, '#/components/schemas/basic-error');
        return validate(body) ? [] : formatErrors(`response ${status}`, validate.errors);
      }
      // Any request can fail validation ("Client errors" in GitHub's REST docs), documented or not:
      // the answer has GitHub's validation-error shape (or the basic one, for a message only).
      if (status === 422) {
        const validation = this.compile(REST_ID, '#/components/schemas/validation-error');
        const basic = this.compile(REST_ID, '#/components/schemas/basic-error');
        const hasMessage = typeof (body as { message?: unknown } | null)?.message === 'string';
        return hasMessage && (validation(body) || basic(body)) ? [] : [`response 422 of ${route.operationId} must be GitHub's validation-error shape with a message`, ...formatErrors(`response ${status}`, validation.errors)];
      }
      return [`status ${status} is not a documented response of ${route.operationId}`];
    }
    const pointer = declared.$ref ?? `${route.pointer}/responses/${status}`;
    const response = this.resolve(this.rest, declared) as { content?: Record<string, unknown> };
    if (!response.content?.['application/json']) {
      return body === undefined || body === '' ? [] : [`response ${status} of ${route.operationId} must have no body`];
    }
    const validate = this.compile(REST_ID, `${pointer}/content/application~1json/schema`);
    return validate(body) ? [] : formatErrors(`response ${status}`, validate.errors);
  }

  /** `name` is the OpenAPI webhook key, e.g. `workflow-job-queued` or `ping`. */
  checkWebhook(name: string, payload: unknown): string[] {
    if (!this.webhooks.webhooks?.[name]) return [`webhook ${name} is not in GitHub's webhook description`];
    const validate = this.compile(WEBHOOKS_ID, `#/webhooks/${escapePointer(name)}/post/requestBody/content/application~1json/schema`);
    return validate(payload) ? [] : formatErrors(`webhook ${name}`, validate.errors);
  }

  private compile(documentId: string, pointer: string): ValidateFunction {
    const key = `${documentId}${pointer}`;
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile({ $ref: key });
      this.compiled.set(key, validate);
    }
    return validate;
  }

  private resolve(document: OpenApiDocument, value: Reference): Record<string, unknown> {
    let current: Reference = value;
    while (current.$ref) {
      const segments = current.$ref.replace(/^#\//, '').split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
      current = segments.reduce<unknown>((node, segment) => (node as Record<string, unknown>)[segment], document) as Reference;
    }
    return current;
  }
}

function coerceQueryValue(value: string, schema: unknown): unknown {
  const type = (schema as { type?: string } | undefined)?.type;
  if (type === 'integer' || type === 'number') return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  if (type === 'boolean') return value === 'true' ? true : value === 'false' ? false : value;
  if (type === 'array') return value.split(',');
  return value;
}

/**
 * OpenAPI 3.0's `nullable` means "this, or null". Ajv implements it only beside `type` and does
 * not let it widen an `enum`; GitHub's description uses it in both other places (e.g. a check
 * run's `conclusion`), so rewrite those spots into plain JSON Schema before compiling.
 */
function adaptNullable<T>(document: T): T {
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (!node || typeof node !== 'object') return;
    const schema = node as Record<string, unknown>;
    for (const value of Object.values(schema)) visit(value);
    if (schema['nullable'] !== true) return;
    if (Array.isArray(schema['enum']) && !schema['enum'].includes(null)) schema['enum'].push(null);
    if (schema['type'] === undefined) {
      const inner = { ...schema };
      delete inner['nullable'];
      for (const key of Object.keys(schema)) delete schema[key];
      schema['anyOf'] = [inner, { type: 'null' }];
    }
  };
  visit(document);
  return document;
}

/**
 * Places where GitHub's description contradicts every real answer. Each fix is the narrowest one
 * that makes the description say what github.com sends.
 */
function fixKnownDefects(document: OpenApiDocument): OpenApiDocument {
  // GET /app/installations inlines `account` as allOf [Simple User, Enterprise], which no object
  // can satisfy; the same field in components.schemas.installation is (correctly) anyOf.
  const listed = document.paths?.['/app/installations']?.['get']?.responses['200'] as
    | { content?: { 'application/json'?: { schema?: { items?: { properties?: Record<string, Record<string, unknown>> } } } } }
    | undefined;
  const account = listed?.content?.['application/json']?.schema?.items?.properties?.['account'];
  if (account?.['allOf']) {
    account['anyOf'] = account['allOf'];
    delete account['allOf'];
  }
  return document;
}
