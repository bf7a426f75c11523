/**
 * `GATEWAY_INFLUX_URL` → connection settings. The database is the URL's path
 * (`http://127.0.0.1:8086/heartbeats`); credentials may be given as URL user info.
 */
export interface InfluxConnection {
  protocol: 'http' | 'https';
  host: string;
  port: number;
  database: string;
  username?: string;
  password?: string;
  /** The URL without credentials, safe to log. */
  display: string;
}

export function parseInfluxUrl(url: string): InfluxConnection {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`GATEWAY_INFLUX_URL is not a URL: ${url}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new Error(`GATEWAY_INFLUX_URL must be http:// or https://, got ${parsed.protocol}`);
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\/+|\/+$/g, ''));
  if (!database || database.includes('/')) {
    throw new Error(`GATEWAY_INFLUX_URL must name the database as its path, e.g. http://127.0.0.1:8086/heartbeats (got ${parsed.pathname})`);
  }
  const protocol = parsed.protocol === 'https:' ? 'https' : 'http';
  const port = parsed.port ? Number(parsed.port) : protocol === 'https' ? 443 : 8086;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  return {
    protocol,
    host,
    port,
    database,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    display: `${protocol}://${parsed.host}/${database}`,
  };
}
