import type { components } from '@octokit/openapi-types';
import { nextLink } from './backoff.js';
import type { GitHubClient } from './client.js';

export type HookDelivery = components['schemas']['hook-delivery-item'];

/**
 * The App's webhook deliveries, newest first, page by page through GitHub's cursor (the Link
 * header's rel="next"). Stop iterating once deliveries are older than what you need.
 */
export async function* listDeliveries(gh: GitHubClient, options: { status?: 'success' | 'failure'; perPage?: number } = {}): AsyncGenerator<HookDelivery> {
  let parameters: Record<string, unknown> = { per_page: options.perPage ?? 100, ...(options.status ? { status: options.status } : {}) };
  for (;;) {
    const response = await gh.request<HookDelivery[]>('app', 'GET /app/hook/deliveries', parameters);
    yield* response.data;
    const next = nextLink(response.headers['link'] as string | undefined);
    const cursor = next ? new URL(next).searchParams.get('cursor') : null;
    if (!cursor) return;
    parameters = { ...parameters, cursor };
  }
}

/** Asks GitHub to deliver again: a new delivery with the same GUID. */
export async function redeliver(gh: GitHubClient, deliveryId: number | bigint): Promise<void> {
  await gh.request('app', 'POST /app/hook/deliveries/{delivery_id}/attempts', { delivery_id: String(deliveryId) });
}
