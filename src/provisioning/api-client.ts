/**
 * A JSON client of the gateway's HTTP API, as a supplier's integration, a simulator or a test
 * calls it: bearer key, JSON bodies, problem+json failures turned into errors that say which call.
 */
export interface RequestInit {
  method?: string;
  body?: unknown;
  /** Overrides the client's key for this call; `null` sends none. */
  key?: string | null;
  headers?: Record<string, string>;
}

export interface ApiClient {
  readonly baseUrl: string;
  /** The raw response, whatever its status. */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** The parsed JSON body; throws unless the status is 2xx. */
  json<T = any>(path: string, init?: RequestInit): Promise<T>;
}

export function createApiClient(baseUrl: string, apiKey: string | null): ApiClient {
  const base = baseUrl.replace(/\/+$/, '');
  const methodOf = (init: RequestInit) => init.method ?? (init.body === undefined ? 'GET' : 'POST');

  const request: ApiClient['request'] = (path, init = {}) => {
    const headers: Record<string, string> = { ...init.headers };
    const key = init.key === undefined ? apiKey : init.key;
    if (key !== null) headers.authorization = `Bearer ${key}`;
    if (init.body !== undefined) headers['content-type'] ??= 'application/json';
    return fetch(base + path, {
      method: methodOf(init),
      headers,
      ...(init.body === undefined ? {} : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
    });
  };

  return {
    baseUrl: base,
    request,
    async json(path, init = {}) {
      const res = await request(path, init);
      const text = await res.text();
      if (!res.ok) throw new Error(`${methodOf(init)} ${path} → ${res.status}: ${text.slice(0, 500)}`);
      return text ? JSON.parse(text) : undefined;
    },
  };
}
