// The page is one more client of the HTTP API: same routes, same Bearer key. The key is typed
// once and kept in sessionStorage (gone when the tab closes), never in localStorage or a cookie.
const KEY = 'gatewayApiKey';

export const session = {
  key: () => sessionStorage.getItem(KEY),
  set: (key) => sessionStorage.setItem(KEY, key),
  clear: () => sessionStorage.removeItem(KEY),
};

/** A non-2xx answer; `problem` is the RFC 9457 body ({type, title, status, detail, errors?}). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
  }
}

/** `query` values that are undefined, null or '' are left out. */
export function withQuery(path, query = {}) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}${path.includes('?') ? '&' : '?'}${qs}` : path;
}

/** JSON in, JSON out (or the raw Response when `accept` is not JSON). Throws ApiError. */
export async function api(path, { method = 'GET', body, query, accept = 'application/json' } = {}) {
  const headers = { authorization: `Bearer ${session.key() ?? ''}`, accept };
  if (body !== undefined) headers['content-type'] = 'application/json';
  // Relative to the page, so the page and API also work behind a reverse proxy's path prefix.
  const url = withQuery(path.startsWith('/') ? path.slice(1) : path, query);
  const res = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
  });
  if (!res.ok) {
    let problem;
    try {
      problem = await res.json();
    } catch {
      problem = undefined;
    }
    throw new ApiError(res.status, problem);
  }
  if (res.status === 204) return undefined;
  return accept === 'application/json' ? res.json() : res;
}

/** Every page of a cursor-paginated list (`items`, `nextCursor`). */
export async function fetchAll(path, query = {}) {
  const items = [];
  let cursor;
  do {
    const page = await api(path, { query: { ...query, limit: 1000, cursor } });
    items.push(...page.items);
    cursor = page.nextCursor ?? null;
  } while (cursor);
  return items;
}

/** Fetches `path` as `accept` and hands it to the browser as a download via a temporary <a>. */
export async function download(path, { query, accept, filename }) {
  const res = await api(path, { query, accept });
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// ── money: integer fen, formatted and summed with BigInt, never with floats ─────────────────

/** 700000000 → "¥7,000,000.00"; accepts number, bigint or numeric string. */
export function yuan(fen) {
  if (fen === null || fen === undefined || fen === '') return '—';
  let value = BigInt(fen);
  const negative = value < 0n;
  if (negative) value = -value;
  const whole = (value / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const cents = (value % 100n).toString().padStart(2, '0');
  return `${negative ? '-' : ''}¥${whole}.${cents}`;
}

/** Exact sum of integer fen amounts, as a bigint. */
export function sumFen(amounts) {
  return amounts.reduce((total, fen) => total + BigInt(fen ?? 0), 0n);
}

/**
 * "100,000.5" yuan typed by a person → 10000050 fen, by string arithmetic (no floats).
 * Returns NaN for anything that is not a non-negative amount with at most 2 decimals.
 */
export function toFen(text) {
  const m = /^\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{0,2}))?\s*$/.exec(String(text ?? ''));
  if (!m) return NaN;
  const fen = BigInt(m[1].replaceAll(',', '')) * 100n + BigInt((m[2] ?? '').padEnd(2, '0'));
  return fen > BigInt(Number.MAX_SAFE_INTEGER) ? NaN : Number(fen);
}

/** 10000050 fen → "100000.50" (for pre-filling an input). */
export function fenToInput(fen) {
  const value = BigInt(fen);
  return `${value / 100n}.${(value % 100n).toString().padStart(2, '0')}`;
}

// ── time: the API speaks ISO-8601 with offsets; the page shows Asia/Shanghai (UTC+08:00) ─────

const SHANGHAI_MS = 8 * 3600_000;

/** "2020-11-21T12:00:00Z" → "2020-11-21 20:00" (Shanghai wall time, whatever the browser's zone). */
export function shanghai(iso, { seconds = false } = {}) {
  if (!iso) return '—';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return String(iso);
  const s = new Date(ms + SHANGHAI_MS).toISOString();
  return `${s.slice(0, 10)} ${s.slice(11, seconds ? 19 : 16)}`;
}

/** ISO instant → value for <input type="datetime-local"> in Shanghai time. */
export function toLocalInput(iso) {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? '' : new Date(ms + SHANGHAI_MS).toISOString().slice(0, 16);
}

/** <input type="datetime-local"> value, read as Shanghai time → ISO with +08:00. */
export function fromLocalInput(value) {
  if (!value) return undefined;
  return `${value.length === 16 ? `${value}:00` : value}+08:00`;
}
