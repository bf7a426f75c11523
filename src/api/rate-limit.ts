import type { RequestHandler } from 'express';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import { sendProblem } from './problem.js';

export interface AuthThrottleLimits {
  /** Failed API-key attempts (401 on a request that carried an Authorization header) per address per window; 0 = off. */
  maxFailures: number;
  windowMs: number;
  /** How long an address that crossed the limit is answered 429. */
  banMs: number;
}

/** Entries kept before expired ones are swept (bounds memory under address spraying). */
const SWEEP_AT = 10_000;

/**
 * Brute-force brake on API keys (SECURITY.md "Outside attacker"): after `maxFailures` failed
 * key attempts from one address within `windowMs`, every request from that address that
 * carries a key that is *not* valid is answered `429` problem+json with `Retry-After` for
 * `banMs`. A valid key still works from a throttled address: a reviewer behind the same NAT
 * as a guesser must not be locked out, and with 256-bit keys the difference between 401 and
 * 429 tells a guesser nothing it did not know. Requests without a key (health, the web page)
 * are never counted or blocked. Time is the injected Clock.
 *
 * The address is `req.ip`: the TCP peer, or behind a proxy in GATEWAY_TRUSTED_PROXIES the
 * client its X-Forwarded-For names (gateway-app.ts); an untrusted proxy's clients share its address.
 */
export function authFailureThrottle(deps: {
  clock: Clock;
  limits: Readonly<AuthThrottleLimits>;
  /** Whether a bearer key is live (the registry's lookup): a live key passes a throttled address. */
  isValidKey: (key: string) => Promise<boolean>;
  onBan?: (address: string, until: number) => void;
}): RequestHandler {
  const { clock, limits } = deps;
  const table = new Map<string, { times: number[]; bannedUntil: number }>();

  const addressOf = (raw: string | undefined) => {
    const a = raw ?? 'unknown';
    return a.startsWith('::ffff:') ? a.slice(7) : a;
  };

  function recordFailure(address: string): void {
    const now = clock.now();
    let entry = table.get(address);
    if (entry === undefined) {
      if (table.size >= SWEEP_AT) {
        // Drop what has nothing left to remember, then the oldest entries down to half the cap
        // (amortised O(1) per insert even when addresses are sprayed inside one window).
        for (const [k, e] of table) if (e.bannedUntil <= now && (e.times.at(-1) ?? 0) <= now - limits.windowMs) table.delete(k);
        for (const k of table.keys()) {
          if (table.size <= SWEEP_AT / 2) break;
          table.delete(k);
        }
      }
      table.set(address, (entry = { times: [], bannedUntil: 0 }));
    }
    entry.times = entry.times.filter((t) => t > now - limits.windowMs);
    entry.times.push(now);
    if (entry.times.length >= limits.maxFailures) {
      entry.times = [];
      entry.bannedUntil = now + limits.banMs;
      deps.onBan?.(address, entry.bannedUntil);
    }
  }

  return async (req, res, next) => {
    if (limits.maxFailures <= 0 || req.get('authorization') === undefined) return next();
    const address = addressOf(req.ip ?? req.socket.remoteAddress);
    const bannedUntil = table.get(address)?.bannedUntil ?? 0;
    const now = clock.now();
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '')?.[1];
    if (bannedUntil > now && (bearer === undefined || !(await deps.isValidKey(bearer)))) {
      res.set('Retry-After', String(Math.max(1, Math.ceil((bannedUntil - now) / 1000))));
      return sendProblem(
        res,
        new AppError('GW_ERR_AUTH_THROTTLED', 'too many failed API-key attempts from this address; retry later'),
      );
    }
    res.once('finish', () => {
      if (res.statusCode === 401) recordFailure(address);
    });
    next();
  };
}
