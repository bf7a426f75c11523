/**
 * One error type with stable codes (after fastify's lib/errors.js and tRPC's TRPCError).
 * The API's error middleware turns any AppError into RFC 9457 application/problem+json.
 */
export interface FieldError {
  /** Where in the request: `body.applications.0.catalogId`, `query.at`, `path.id`. */
  path: string;
  message: string;
}

export class AppError extends Error {
  readonly code: string;
  readonly httpStatus: number;
  readonly errors: FieldError[] | undefined;

  constructor(
    code: string,
    httpStatus: number,
    message: string,
    options: { cause?: unknown; errors?: FieldError[] } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.httpStatus = httpStatus;
    this.errors = options.errors;
  }
}

export const notFound = (what: string, id: string | number): AppError =>
  new AppError('GW_ERR_NOT_FOUND', 404, `${what} ${id} not found`);

export const badRequest = (code: string, message: string, errors?: FieldError[]): AppError =>
  new AppError(code, 400, message, errors ? { errors } : {});

export const conflict = (code: string, message: string): AppError => new AppError(code, 409, message);

/** Anything thrown, as an AppError (unknown failures become a 500 without leaking details). */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  return new AppError('GW_ERR_INTERNAL', 500, 'internal error', { cause: err });
}
