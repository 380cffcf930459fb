import type { z } from 'zod';

/**
 * The API's one error shape, `{ error: { code, message, field? } }`, with
 * stable codes (Fastify style, `DEMINER_*`) that clients may branch on. The
 * message is for people; `field` names the input at fault
 * (`items[3].@timestamp`, `limit`, `Idempotency-Key`).
 */
export const ERROR_CODES = {
  DEMINER_BAD_REQUEST: 400,
  DEMINER_BAD_JSON: 400,
  DEMINER_VALIDATION: 400,
  DEMINER_BAD_ALLOWLIST: 400,
  DEMINER_UNAUTHORIZED: 401,
  DEMINER_ENROLMENT_INVALID: 401,
  DEMINER_FORBIDDEN: 403,
  DEMINER_FOREIGN_HOST: 403,
  DEMINER_NOT_FOUND: 404,
  DEMINER_METHOD_NOT_ALLOWED: 405,
  DEMINER_CONFLICT: 409,
  DEMINER_EVIDENCE_ALTERED: 409,
  DEMINER_BODY_TOO_LARGE: 413,
  DEMINER_UNSUPPORTED_MEDIA_TYPE: 415,
  DEMINER_UNPROCESSABLE: 422,
  DEMINER_FUTURE_TIMESTAMP: 422,
  DEMINER_RATE_LIMITED: 429,
  DEMINER_INTERNAL: 500,
  DEMINER_UNAVAILABLE: 503,
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorBody {
  error: { code: ErrorCode; message: string; field?: string };
}

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly field: string | undefined;
  /** Sent as response headers (e.g. Retry-After). */
  readonly headers: Record<string, string>;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { field?: string; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.statusCode = ERROR_CODES[code];
    this.field = opts.field;
    this.headers = opts.headers ?? {};
  }

  body(): ErrorBody {
    return this.field === undefined
      ? { error: { code: this.code, message: this.message } }
      : { error: { code: this.code, message: this.message, field: this.field } };
  }
}

/** `['items', 3, '@timestamp']` → `items[3].@timestamp`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out;
}

/**
 * The first zod issue as an API error naming its field. Unknown keys name
 * the key itself (`items[0].colour`), so a misspelt field is found at once.
 */
export function validationError(error: z.ZodError, root?: string): ApiError {
  const issue = error.issues[0];
  if (!issue) return new ApiError('DEMINER_VALIDATION', 'invalid input');
  let path: PropertyKey[] = root === undefined ? [...issue.path] : [root, ...issue.path];
  let message = issue.message;
  if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) {
    path = [...path, clip(issue.keys[0]!, 100)];
    const names = issue.keys.slice(0, 5).map((k) => clip(k, 100));
    message = `unknown field${issue.keys.length > 1 ? 's' : ''}: ${names.join(', ')}${issue.keys.length > 5 ? ', …' : ''}`;
  }
  const field = fieldPath(path);
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem(s))` : '';
  return new ApiError('DEMINER_VALIDATION', `${field === '' ? 'body' : field}: ${message}${more}`, {
    ...(field === '' ? {} : { field }),
  });
}

/** Names the client chose are echoed back, but never at any length. */
export function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}
