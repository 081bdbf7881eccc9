/** The NDJSON wire format (CONTRACT §2), shared by the daemon, the client and the CLI. */

export type CorrelationId = string | number | boolean | null;

export interface KsiRequest {
  event: string;
  data?: Record<string, unknown> | null;
  correlation_id?: CorrelationId;
}

export interface KsiReply<T = unknown> {
  event: string;
  data: T;
  count: number;
  correlation_id: CorrelationId;
  timestamp: number;
}

/** A request-level error: replaces `data`/`count`. */
export interface KsiErrorReply {
  event?: string;
  error: string;
  code: RequestErrorCode;
  details?: ParamIssue[];
  suggestions?: string[];
  correlation_id?: CorrelationId;
  timestamp: number;
}

export interface KsiPush<T = unknown, E extends string = string> {
  event: E;
  data: T;
  timestamp: number;
  push: true;
}

export interface ParamIssue {
  path: string;
  message: string;
}

/** An application error is an ordinary handler result of this shape. */
export interface ErrorResult {
  error: string;
  code: string;
  [extra: string]: unknown;
}

export const REQUEST_ERROR_CODES = [
  'invalid_json',
  'invalid_request',
  'unknown_event',
  'invalid_params',
  'forbidden_event',
  'permission_denied',
  'line_too_long',
  'line_timeout',
  'shutting_down',
  'internal_error',
] as const;
export type RequestErrorCode = (typeof REQUEST_ERROR_CODES)[number];

/**
 * An application error code (an ErrorResult's `code`) any event that writes may answer with: the disk
 * holding the database is full and nothing was written; retry once there is space.
 */
export const STORAGE_FULL = 'storage_full';

/**
 * An application error code any event that reads or writes the database may answer with: the
 * PostgreSQL server cannot be reached, and the request was not carried out; retry once it is back.
 */
export const STORAGE_UNAVAILABLE = 'storage_unavailable';

export function isErrorResult(value: unknown): value is ErrorResult {
  return typeof value === 'object' && value !== null && typeof (value as ErrorResult).error === 'string';
}
