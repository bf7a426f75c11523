import type { Express } from 'express';
import helmet from 'helmet';

/**
 * Security headers (helmet). The reviewer page loads only its own scripts and styles — no
 * CDN, no inline script — so a strict Content-Security-Policy costs nothing.
 */
export function securityHeaders(app: Express): void {
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: true,
        directives: {
          'default-src': ["'self'"],
          'script-src': ["'self'"],
          'style-src': ["'self'"],
          'img-src': ["'self'", 'data:', 'blob:'],
          'connect-src': ["'self'"],
          'upgrade-insecure-requests': null,
        },
      },
      strictTransportSecurity: false, // served over plain HTTP on loopback by default; TLS terminates in front
    }),
  );
}
