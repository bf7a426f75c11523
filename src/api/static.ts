import express, { type Express } from 'express';
import { fileURLToPath } from 'node:url';

/** The reviewer and supplier web page: plain static files, no CDN, no build step. */
export const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

export function mountWebPage(app: Express): void {
  app.use(express.static(WEB_DIR, { index: 'index.html', setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache') }));
}
