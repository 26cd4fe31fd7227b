import { createHmac, randomUUID } from 'node:crypto';
import type { SimDelivery, WebhookFaults } from './api.js';
import type { SimClock } from './clock.js';
import { randomDelay } from './world.js';

/**
 * Webhook delivery as github.com does it (github-contract.md §1, §8): the exact header set, HMAC
 * signatures over the raw body, a 10-second answer limit, no automatic retry, a deliveries log that
 * the App can read and redeliver from (a redelivery keeps the GUID). Faults make the bad days that
 * GitHub has: lost, duplicated, late and out-of-order deliveries.
 */

export interface WebhookConfig {
  url: string | undefined;
  secret: string | undefined;
  appId: number;
  hookId: number;
}

export interface OutgoingEvent {
  event: string;
  action: string | null;
  installationId: number | null;
  repositoryId: number | null;
  payload: Record<string, unknown>;
}

const TIMEOUT_MS = 10_000;
const HOOKSHOT = 'GitHub-Hookshot/5e4d1c2';
const RETENTION_MS = 3 * 86_400_000;

export class WebhookSender {
  private readonly log: SimDelivery[] = [];
  private nextId = 80_000_000_000;
  private faults: WebhookFaults = {};
  private chain: Promise<void> = Promise.resolve();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly listeners = new Set<(d: SimDelivery) => void>();
  private closed = false;

  constructor(
    private readonly config: () => WebhookConfig,
    private readonly clock: SimClock,
  ) {}

  setFaults(faults: WebhookFaults): void {
    this.faults = { ...faults };
  }

  send(event: OutgoingEvent): string {
    const guid = randomUUID();
    this.dispatch(event, guid, false);
    return guid;
  }

  /** `POST /app/hook/deliveries/{id}/attempts`: a new delivery with the same GUID. */
  redeliver(deliveryId: number): boolean {
    const original = this.log.find((d) => d.id === deliveryId);
    if (!original || this.clock.now() - Date.parse(original.deliveredAt) > RETENTION_MS) return false;
    const event: OutgoingEvent = {
      event: original.event,
      action: original.action,
      installationId: original.installationId,
      repositoryId: original.repositoryId,
      payload: original.payload as Record<string, unknown>,
    };
    // A redelivery is an explicit request: faults that model GitHub's bad days do not apply.
    this.track(this.deliver(event, original.guid, true));
    return true;
  }

  /** Newest first, as GitHub lists them; only the last three days. */
  deliveries(): SimDelivery[] {
    const cutoff = this.clock.now() - RETENTION_MS;
    return this.log.filter((d) => Date.parse(d.deliveredAt) >= cutoff).reverse();
  }

  onDelivery(listener: (d: SimDelivery) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
  }

  private dispatch(event: OutgoingEvent, guid: string, redelivery: boolean): void {
    const faults = this.faults;
    if (faults.dropRate && Math.random() < faults.dropRate) {
      this.record(event, guid, redelivery, { status: 'timed out', statusCode: 0, duration: TIMEOUT_MS / 1000, body: '', headers: this.headers(event, guid, '') });
      return;
    }
    const copies = faults.duplicateRate && Math.random() < faults.duplicateRate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const window = faults.delayMs ?? (faults.reorder ? ([0, 500] as [number, number]) : undefined);
      if (window) {
        const delay = randomDelay(window);
        this.track(new Promise<void>((resolve) => setTimeout(resolve, delay)).then(() => this.deliver(event, guid, redelivery)));
      } else {
        // Without delay faults GitHub's deliveries arrive in the order the events happened.
        this.chain = this.chain.then(() => this.deliver(event, guid, redelivery));
        this.track(this.chain);
      }
    }
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private headers(event: OutgoingEvent, guid: string, body: string): Record<string, string> {
    const { secret, appId, hookId } = this.config();
    const headers: Record<string, string> = {
      Accept: '*/*',
      'content-type': 'application/json',
      'User-Agent': HOOKSHOT,
      'X-GitHub-Delivery': guid,
      'X-GitHub-Event': event.event,
      'X-GitHub-Hook-ID': String(hookId),
      'X-GitHub-Hook-Installation-Target-ID': String(appId),
      'X-GitHub-Hook-Installation-Target-Type': 'integration',
    };
    if (secret) {
      headers['X-Hub-Signature'] = `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`;
      headers['X-Hub-Signature-256'] = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    }
    return headers;
  }

  private async deliver(event: OutgoingEvent, guid: string, redelivery: boolean): Promise<void> {
    const body = JSON.stringify(event.payload);
    const headers = this.headers(event, guid, body);
    const { url } = this.config();
    const started = performance.now();
    const seconds = (): number => Math.round(performance.now() - started) / 1000;
    if (!url || this.closed) {
      this.record(event, guid, redelivery, { status: 'failed to connect to host', statusCode: 0, duration: 0, body: '', headers });
      return;
    }
    try {
      const response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(TIMEOUT_MS) });
      const text = (await response.text()).slice(0, 2048);
      const ok = response.status >= 200 && response.status < 300;
      this.record(event, guid, redelivery, {
        status: ok ? 'OK' : `Invalid HTTP Response: ${response.status}`,
        statusCode: response.status,
        duration: seconds(),
        body: text,
        headers,
      });
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      this.record(event, guid, redelivery, {
        status: timedOut ? 'timed out' : 'failed to connect to network',
        statusCode: 0,
        duration: seconds(),
        body: '',
        headers,
      });
    }
  }

  private record(
    event: OutgoingEvent,
    guid: string,
    redelivery: boolean,
    outcome: { status: string; statusCode: number; duration: number; body: string; headers: Record<string, string> },
  ): void {
    const delivery: SimDelivery = {
      id: this.nextId++,
      guid,
      event: event.event,
      action: event.action,
      installationId: event.installationId,
      repositoryId: event.repositoryId,
      redelivery,
      deliveredAt: new Date(this.clock.now()).toISOString().replace(/\.\d+Z$/, 'Z'),
      status: outcome.status,
      statusCode: outcome.statusCode,
      duration: outcome.duration,
      requestHeaders: outcome.headers,
      payload: event.payload,
      responseBody: outcome.body,
    };
    this.log.push(delivery);
    for (const listener of this.listeners) listener(delivery);
  }
}
