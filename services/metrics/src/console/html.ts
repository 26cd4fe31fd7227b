import { escapeHtml } from '@runnerhub/platform';

/** HTML built with `html\`…\``: every interpolated value is escaped unless it is itself Html. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export type Renderable = Html | string | number | boolean | null | undefined | readonly Renderable[];

function render(v: Renderable): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof Html) return v.text;
  if (Array.isArray(v)) return (v as readonly Renderable[]).map(render).join('');
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: Renderable[]): Html {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

/** Seconds or minutes between two instants, for people: "4.2 s", "3 min 5 s"; "" when either is missing. */
export function duration(from: string | null | undefined, to: string | null | undefined): string {
  if (!from || !to) return '';
  const ms = Date.parse(to) - Date.parse(from);
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return s < 3600 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** An instant as UTC time of day (the date too when it is not today), in a <time> element. */
export function when(iso: string | null | undefined): Html {
  if (!iso) return html``;
  const d = new Date(iso);
  const today = new Date().toISOString().slice(0, 10);
  const text = d.toISOString().slice(0, 10) === today ? d.toISOString().slice(11, 19) : d.toISOString().slice(0, 19).replace('T', ' ');
  return html`<time datetime="${iso}">${text}</time>`;
}
