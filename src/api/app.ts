import express, { type Express } from 'express';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import { mountRoutes, type Authenticator } from './mount.js';
import { problemMiddleware, sendProblem } from './problem.js';
import type { RouteSpec } from './route.js';

export interface AppOptions<D> {
  routes: readonly RouteSpec<any, any, any, D>[];
  deps: D;
  authenticate: Authenticator;
  log: Logger;
  /** Largest accepted JSON body; bulk device registration (10,000 devices) needs about 1 MB. */
  bodyLimit?: string;
  /** Mounted before the API routes (static web page, security headers). */
  before?: (app: Express) => void;
}

/** Builds the Express app; `src/main.ts` (or a test) decides where it listens. */
export function buildApp<D>(options: AppOptions<D>): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  options.before?.(app);
  app.use(express.json({ limit: options.bodyLimit ?? '2mb', strict: true }));
  const router = express.Router();
  mountRoutes(router, options.routes, options.deps, options.authenticate);
  app.use(router);
  app.use((req, res) => {
    sendProblem(res, new AppError('GW_ERR_NOT_FOUND', `no route for ${req.method} ${req.path}`));
  });
  app.use(problemMiddleware(options.log));
  return app;
}
