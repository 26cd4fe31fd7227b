import { request } from '@octokit/request';

/** GitHub's webhook source ranges (`hooks` of GET /meta, no authentication). They change: refresh. */
export async function webhookSourceRanges(baseUrl: string): Promise<string[]> {
  const response = await request('GET /meta', { baseUrl: baseUrl.replace(/\/+$/, ''), headers: { 'x-github-api-version': '2022-11-28' }, request: { signal: AbortSignal.timeout(15_000) } });
  return (response.data as { hooks?: string[] }).hooks ?? [];
}
