import type { ErrorRequestHandler, Response } from 'express';
import type { z } from 'zod';
import { isUnreachable } from '../db/postgres.js';
import { DatabaseUnavailableError } from '../db/sql-db.js';
import { AppError, toAppError, type FieldError } from '../errors.js';
import type { Logger } from '../log.js';

/** Seconds a client is asked to wait after a 503: about the reconnect back-off's ceiling (5 s). */
const RETRY_AFTER_S = 5;

/** RFC 9457 problem details; `type` is a stable URN built from the error code. */
export function sendProblem(res: Response, err: AppError): void {
  const body: Record<string, unknown> = {
    ...err.extensions,
    type: `urn:gateway:error:${err.code}`,
    title: err.title,
    status: err.httpStatus,
    detail: err.message,
    code: err.code,
  };
  if (err.errors) body.errors = err.errors;
  // A 503 is a backend that is down (a telemetry database, a full buffer): say when to try again.
  if (err.httpStatus === 503) res.set('Retry-After', String(RETRY_AFTER_S));
  res.status(err.httpStatus).type('application/problem+json').send(JSON.stringify(body));
}

/** zod issues → field errors prefixed with the part of the request they concern. */
export function fieldErrors(part: 'body' | 'query' | 'path', error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({
    path: [part, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
}

/** The one Express error middleware: every failure leaves as problem+json. */
export function problemMiddleware(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const appError = fromExpressError(err) ?? fromDatabaseError(err) ?? toAppError(err);
    if (appError.httpStatus >= 500) log.error({ err, method: req.method, url: req.originalUrl }, 'request failed');
    if (res.headersSent) return;
    sendProblem(res, appError);
  };
}

/** The registry's database is down (src/db/sql-db.ts): 503 with Retry-After, nothing half-done (a transaction). */
function fromDatabaseError(err: unknown): AppError | undefined {
  if (err instanceof DatabaseUnavailableError) return new AppError('GW_ERR_DATABASE_UNAVAILABLE', err.message);
  // A query built with kysely's builder reports the driver's error itself.
  if (isUnreachable(err)) return new AppError('GW_ERR_DATABASE_UNAVAILABLE', `registry database unreachable (${(err as Error).message}); retry later`);
  return undefined;
}

/** body-parser's own errors carry a `type`; give each a precise code. */
function fromExpressError(err: unknown): AppError | undefined {
  if (!err || typeof err !== 'object' || !('type' in err)) return undefined;
  const e = err as { type: string; message: string; limit?: number };
  switch (e.type) {
    case 'entity.parse.failed':
      return new AppError('GW_ERR_API_MALFORMED_JSON', `request body is not valid JSON: ${e.message}`, {
        errors: [{ path: 'body', message: 'malformed JSON' }],
      });
    case 'entity.too.large':
      return new AppError('GW_ERR_API_BODY_TOO_LARGE', `request body exceeds the ${e.limit} byte limit`);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError('GW_ERR_API_UNSUPPORTED_ENCODING', e.message);
    default:
      return undefined;
  }
}
