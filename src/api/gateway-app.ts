import type { Express } from 'express';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { TrustedProxies } from '../trusted-proxies.js';
import { buildApp } from './app.js';
import type { Authenticator } from './mount.js';
import { authFailureThrottle, type AuthThrottleLimits } from './rate-limit.js';
import { allRoutes, type ApiDeps } from './routes/index.js';
import { securityHeaders } from './security.js';
import { mountWebPage } from './static.js';

/** The gateway's HTTP app: security headers, the API-key brute-force brake, the web page, every v1 route. */
export function buildGatewayApp(options: {
  deps: ApiDeps;
  authenticate: Authenticator;
  clock: Clock;
  throttle: Readonly<AuthThrottleLimits>;
  onThrottleBan: (address: string, until: number) => void;
  log: Logger;
  /** GATEWAY_TRUSTED_PROXIES: whose X-Forwarded-For makes `req.ip` (default nobody's). */
  trustedProxies?: TrustedProxies;
}): Express {
  return buildApp({
    routes: allRoutes,
    deps: options.deps,
    authenticate: options.authenticate,
    log: options.log,
    before(app) {
      // Behind HAProxy (`option forwardfor`) the client is the nearest untrusted hop of
      // X-Forwarded-For; a header from any other peer is ignored (proxy-addr, SECURITY.md).
      const trusted = options.trustedProxies ?? (() => false);
      app.set('trust proxy', (address: string) => trusted(address));
      securityHeaders(app);
      // A live key passes a throttled address (rate-limit.ts); checking it costs one digest lookup.
      const isValidKey = async (key: string) => (await options.authenticate(key)) !== undefined;
      app.use(authFailureThrottle({ clock: options.clock, limits: options.throttle, isValidKey, onBan: options.onThrottleBan }));
      mountWebPage(app);
    },
  });
}
