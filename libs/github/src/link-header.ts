/**
 * GitHub's `Link` response header (RFC 8288): `<url>; rel="next", <url>; rel="last"`. Page lists
 * and cursor lists (`/app/hook/deliveries`) both announce their next page here.
 */

/** The `rel="next"` URL, if any. */
export function nextLink(link: string | undefined): string | undefined {
  if (!link) return undefined;
  // URLs may hold commas, so split on the `<` that starts each link rather than on commas.
  for (const match of link.matchAll(/<([^>]*)>([^<]*)/g)) {
    const rels = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(match[2] ?? '');
    const names = (rels?.[1] ?? rels?.[2] ?? '').split(/\s+/);
    if (names.includes('next')) return match[1];
  }
  return undefined;
}

/** The `cursor` of the next page of a cursor list, so callers keep their own base URL (GHES). */
export function nextCursor(link: string | undefined): string | undefined {
  const next = nextLink(link);
  if (!next) return undefined;
  try {
    return new URL(next).searchParams.get('cursor') ?? undefined;
  } catch {
    return undefined;
  }
}
