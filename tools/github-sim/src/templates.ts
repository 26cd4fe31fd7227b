import { createRequire } from 'node:module';

/**
 * GitHub's own examples are the templates for what the simulator returns and sends: REST objects
 * from the OpenAPI description's `components.examples`, webhook payloads from
 * `@octokit/webhooks-examples`. We fill in our fields and leave the rest as GitHub wrote it, so
 * the shapes carry every field a real response has.
 */

const require = createRequire(import.meta.url);

interface ExampleDocument {
  components: { examples: Record<string, { value: unknown }> };
}
interface WebhookEventExamples {
  name: string;
  examples: Record<string, unknown>[];
}

let restExamples: ExampleDocument | undefined;
let webhookExamples: WebhookEventExamples[] | undefined;

export function restExample<T = Record<string, unknown>>(name: string): T {
  restExamples ??= require('@octokit/openapi/generated/api.github.com.json') as ExampleDocument;
  const example = restExamples.components.examples[name];
  if (!example) throw new Error(`no OpenAPI example named ${name}`);
  return structuredClone(example.value) as T;
}

/** The n-th example of a webhook event (order as in the package, see github-contract.md §2). */
export function webhookExample(event: string, index: number): Record<string, unknown> {
  webhookExamples ??= require('@octokit/webhooks-examples/api.github.com/index.json') as WebhookEventExamples[];
  const entry = webhookExamples.find((e) => e.name === event);
  const example = entry?.examples[index];
  if (!example) throw new Error(`no webhook example ${event}[${index}]`);
  return structuredClone(example);
}

/** Replaces substrings in every string of a JSON value (URLs that embed owner and repo names). */
export function rewriteStrings<T>(value: T, replacements: [string, string][]): T {
  const visit = (node: unknown): unknown => {
    if (typeof node === 'string') return replacements.reduce((s, [from, to]) => s.split(from).join(to), node);
    if (Array.isArray(node)) return node.map(visit);
    if (node && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, visit(v)]));
    }
    return node;
  };
  return visit(value) as T;
}

export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export function nodeId(kind: string, id: number): string {
  return Buffer.from(`0${kind.length}:${kind}${id}`).toString('base64');
}
