import type { components } from '@octokit/openapi-types';
import type { GitHubClient } from './client.js';
import { nextCursor } from './link-header.js';

export type HookDelivery = components['schemas']['hook-delivery-item'];

export interface DeliveryQuery {
  status?: 'success' | 'failure';
  /** GitHub allows at most 100. */
  perPage?: number;
}

/**
 * The App's webhook deliveries (App JWT), newest first, page by page through GitHub's opaque cursor
 * (the Link header's rel="next"; this list has no page numbers). Stop iterating once deliveries
 * are older than what you need: each further page is a call.
 */
export async function* listDeliveries(gh: GitHubClient, query: DeliveryQuery = {}): AsyncGenerator<HookDelivery> {
  const parameters: Record<string, unknown> = { per_page: query.perPage ?? 100, ...(query.status ? { status: query.status } : {}) };
  for (;;) {
    const response = await gh.request<HookDelivery[]>('app', 'GET /app/hook/deliveries', parameters);
    yield* response.data;
    // Only the cursor is taken from GitHub's URL, so a GHES base path (/api/v3) or a proxy stays ours.
    const cursor = nextCursor(typeof response.headers['link'] === 'string' ? response.headers['link'] : undefined);
    if (!cursor) return;
    parameters['cursor'] = cursor;
  }
}

/** Asks GitHub to deliver again (202): a new delivery with the same GUID and `redelivery: true`. */
export async function redeliver(gh: GitHubClient, deliveryId: number | bigint): Promise<void> {
  await gh.request('app', 'POST /app/hook/deliveries/{delivery_id}/attempts', { delivery_id: String(deliveryId) });
}
