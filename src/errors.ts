/**
 * One error type with stable codes, and the one catalogue of those codes (after fastify's
 * lib/errors.js). Every `GW_ERR_*` code the gateway can produce is declared here once, with its
 * HTTP status and title; code elsewhere names a code, never assembles one. The API's error
 * middleware turns any AppError into RFC 9457 application/problem+json, and the catalogue is
 * published in the OpenAPI document (`components.x-error-codes`) and README.
 */
export const ERROR_CATALOGUE = {
  GW_ERR_INTERNAL: { status: 500, title: 'Internal error' },
  GW_ERR_NOT_FOUND: { status: 404, title: 'Not found' },

  GW_ERR_API_INVALID_PATH: { status: 400, title: 'Invalid path parameter' },
  GW_ERR_API_INVALID_QUERY: { status: 400, title: 'Invalid query parameter' },
  GW_ERR_API_INVALID_BODY: { status: 400, title: 'Invalid request body' },
  GW_ERR_API_INVALID_CURSOR: { status: 400, title: 'Invalid page cursor' },
  GW_ERR_API_MALFORMED_JSON: { status: 400, title: 'Malformed JSON' },
  GW_ERR_API_BODY_TOO_LARGE: { status: 413, title: 'Request body too large' },
  GW_ERR_API_UNSUPPORTED_ENCODING: { status: 415, title: 'Unsupported encoding' },

  GW_ERR_AUTH_MISSING: { status: 401, title: 'API key missing' },
  GW_ERR_AUTH_MALFORMED: { status: 401, title: 'Authorization header malformed' },
  GW_ERR_AUTH_INVALID: { status: 401, title: 'API key unknown or disabled' },
  GW_ERR_AUTH_FORBIDDEN: { status: 403, title: 'Role not allowed' },
  GW_ERR_AUTH_THROTTLED: { status: 429, title: 'Too many failed API-key attempts' },

  GW_ERR_VERIFICATION_POLICY_OVERRIDE: { status: 403, title: 'Policy override not allowed for this role' },

  GW_ERR_RULES_UNKNOWN_REFERENCE: { status: 400, title: 'Unknown program, catalog item or city' },

  GW_ERR_REGISTRY_BATCH_SIZE: { status: 400, title: 'Too many or too few devices in one call' },
  GW_ERR_REGISTRY_DUPLICATE_SERIAL: { status: 409, title: 'Serial already registered' },
  GW_ERR_REGISTRY_CREDIT_CODE: { status: 400, title: 'Invalid unified social credit code' },
  GW_ERR_REGISTRY_DUPLICATE_CREDIT_CODE: { status: 409, title: 'Enterprise already registered' },
  GW_ERR_REGISTRY_UNKNOWN_CITY: { status: 400, title: 'Unknown city' },
  GW_ERR_REGISTRY_UNKNOWN_PROGRAM: { status: 400, title: 'Unknown program year' },
  GW_ERR_REGISTRY_UNKNOWN_CATALOG_ITEM: { status: 400, title: 'Unknown catalog item' },
  GW_ERR_REGISTRY_UNKNOWN_REFERENCE: { status: 400, title: 'Reference to an unknown record' },
  GW_ERR_REGISTRY_KEY_SUPPLIER: { status: 400, title: 'Supplier binding of an API key is wrong' },
  GW_ERR_REGISTRY_ADMIN_KEY: { status: 500, title: 'Configured admin key has another role' },
  GW_ERR_REGISTRY_ADMIN_KEY_REVOKED: { status: 500, title: 'Configured admin key was revoked' },
  GW_ERR_REGISTRY_LAST_ADMIN_KEY: { status: 409, title: 'Last live admin key' },
  GW_ERR_REGISTRY_KEY_EXPIRY: { status: 400, title: 'API key expiry not in the future' },
  GW_ERR_REGISTRY_BAD_QUOTA: { status: 400, title: 'Invalid quota' },

  GW_ERR_AUDIT_PROOF_RANGE: { status: 400, title: 'No proof for these tree sizes or leaf index' },
  GW_ERR_EDGE_UNKNOWN_DEVICE: { status: 400, title: 'Not a registered device of the edge node\'s contract' },
  GW_ERR_EDGE_DEVICE_BOUND_ELSEWHERE: { status: 409, title: 'Device bound to another edge node' },

  GW_ERR_TELEMETRY_BUFFER_FULL: { status: 503, title: 'Telemetry buffer full' },
  GW_ERR_TELEMETRY_UNAVAILABLE: { status: 503, title: 'Telemetry database unreachable' },
  GW_ERR_DATABASE_UNAVAILABLE: { status: 503, title: 'Registry database unreachable' },

  // The money path (SPEC rules 11–14).
  GW_ERR_REDEMPTION_NOT_ADMITTED: { status: 409, title: 'Voucher not admitted' },
  GW_ERR_REDEMPTION_APPLICATION_EXISTS: { status: 409, title: 'Open redemption application or payout exists' },
  GW_ERR_REDEMPTION_IDEMPOTENCY_KEY_REUSED: { status: 422, title: 'Idempotency-Key used for another contract' },
  GW_ERR_REDEMPTION_BAD_IDEMPOTENCY_KEY: { status: 400, title: 'Invalid Idempotency-Key header' },
  GW_ERR_REDEMPTION_NOT_SUBMITTED: { status: 409, title: 'Redemption application no longer submitted' },
  GW_ERR_REDEMPTION_RULES_FAILED: { status: 409, title: 'Rules or device check do not support approval' },
  GW_ERR_REDEMPTION_SIGNALS_UNACKNOWLEDGED: { status: 409, title: 'Fraud signals not acknowledged' },
  GW_ERR_REDEMPTION_NOT_A_FRAUD_SIGNAL: { status: 400, title: 'Not a fraud signal kind' },
  GW_ERR_REVIEW_REASON_REQUIRED: { status: 400, title: 'Reason required' },
  GW_ERR_REVIEW_SERIAL_NOT_REGISTERED: { status: 400, title: 'Serial not registered under that contract' },
  GW_ERR_SETTLEMENT_NOTHING_TO_SETTLE: { status: 409, title: 'Nothing to settle' },
  GW_ERR_SPOT_CHECK_ALREADY_RECORDED: { status: 409, title: 'Spot-check outcome already recorded' },
  GW_ERR_SPOT_CHECK_CITATION: { status: 400, title: 'Quota adjustment must cite recorded spot-check outcomes' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export const ERROR_CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[];

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CATALOGUE, code);
}

export interface FieldError {
  /** Where in the request: `body.applications.0.catalogId`, `query.at`, `path.id`. */
  path: string;
  message: string;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly httpStatus: number;
  readonly title: string;
  readonly errors: FieldError[] | undefined;
  /** RFC 9457 extension members (e.g. the existing record a 409 conflicts with). */
  readonly extensions: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; errors?: FieldError[]; extensions?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.httpStatus = ERROR_CATALOGUE[code].status;
    this.title = ERROR_CATALOGUE[code].title;
    this.errors = options.errors;
    this.extensions = options.extensions;
  }
}

export const notFound = (what: string, id: string | number): AppError => new AppError('GW_ERR_NOT_FOUND', `${what} ${id} not found`);

export const badRequest = (code: ErrorCode, message: string, errors?: FieldError[]): AppError =>
  new AppError(code, message, errors ? { errors } : {});

/** Anything thrown, as an AppError (unknown failures become a 500 without leaking details). */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  return new AppError('GW_ERR_INTERNAL', 'internal error', { cause: err });
}
