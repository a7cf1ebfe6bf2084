// Errors that cross layers. Services throw these; the HTTP layer maps them to
// status codes and the `{"error": {code, message, field}}` body; the CLI maps
// them to exit codes. Unknown errors become 500 without leaking internals.

export type ErrorCode =
  | "bad_request"
  | "validation_failed"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "payload_too_large"
  | "rate_limited"
  | "unavailable"
  | "internal"
  // The tenant's device limit would be exceeded (the same reason code ingest uses).
  | "DEVICE_LIMIT";

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
  DEVICE_LIMIT: 403,
};

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly field?: string;
  readonly retryAfterSeconds?: number;
  constructor(code: ErrorCode, message: string, opts: { field?: string; cause?: unknown; retryAfterSeconds?: number } = {}) {
    super(message, { cause: opts.cause });
    this.name = "AppError";
    this.code = code;
    this.field = opts.field;
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }
  get status(): number {
    return STATUS[this.code];
  }
}

export const notFound = (what: string) => new AppError("not_found", `${what} not found`);
export const invalid = (field: string, message: string) => new AppError("validation_failed", message, { field });
export const conflict = (message: string, field?: string) => new AppError("conflict", message, { field });
export const forbidden = (message = "not allowed") => new AppError("forbidden", message);
