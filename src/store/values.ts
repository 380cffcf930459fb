import { StoreInputError } from './errors.ts';

/**
 * Every time the store writes or compares is `Date#toISOString()` of the
 * input: UTC, milliseconds, fixed width. Text order is then time order on
 * both engines, and range filters compare like with like.
 */
export function isoTime(value: unknown, field: string): string {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  // Beyond year 9999 toISOString() grows a sign and two digits, which would break text order.
  if (!Number.isFinite(ms) || ms < -62_167_219_200_000 || ms > 253_402_300_799_999) {
    throw new StoreInputError('STORE_BAD_TIME', `not an ISO-8601 time: ${JSON.stringify(value)}`, {
      location: field,
    });
  }
  return new Date(ms).toISOString();
}

export function isoFromMs(ms: number): string {
  return new Date(ms).toISOString();
}

/** A page size: `fallback` when absent, an error outside 1..max. */
export function pageLimit(value: number | undefined, fallback: number, max: number, field = 'limit'): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new StoreInputError('STORE_BAD_INPUT', `must be an integer from 1 to ${max}`, { location: field });
  }
  return value;
}

/** Opaque to clients: base64url of a small JSON value. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): unknown {
  if (cursor.length > 4096 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw badCursor();
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (e) {
    throw badCursor(e);
  }
}

export function badCursor(cause?: unknown): StoreInputError {
  return new StoreInputError('STORE_BAD_CURSOR', 'not a cursor this list gave out', {
    location: 'cursor',
    cause,
  });
}

/** A LIKE pattern matching `needle` anywhere, with the wildcards escaped (used with ESCAPE '\'). */
export function containsPattern(needle: string): string {
  return `%${needle.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** A short free-text value (names, actors, keys): bounded so one request cannot bloat a table. */
export function shortText(value: unknown, field: string, max = 512): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw new StoreInputError('STORE_BAD_INPUT', `must be a string of 1 to ${max} characters`, {
      location: field,
    });
  }
  return value;
}

export function optionalText(value: unknown, field: string, max = 512): string | null {
  return value === undefined || value === null ? null : shortText(value, field, max);
}

/** bigint columns come back as strings from PostgreSQL. */
export function toNumber(value: string | number | bigint): number {
  return typeof value === 'number' ? value : Number(value);
}
