import { DeminerError } from '../core/errors.ts';

/**
 * A caller handed the store something it refuses (a batch too large, a
 * malformed cursor, a time that is not ISO-8601, a finding without a
 * fingerprint). The server answers these with 400/422; `location` names the
 * field (e.g. `items[3].@timestamp`, `cursor`, `limit`). Anything else the
 * store throws is a server-side failure (500).
 */
export class StoreInputError extends DeminerError {
  constructor(code: StoreInputCode, message: string, options: { location?: string; cause?: unknown } = {}) {
    super(code, message, options);
    this.name = 'StoreInputError';
  }
}

export type StoreInputCode =
  | 'STORE_BATCH_TOO_LARGE'
  | 'STORE_BAD_FINDING'
  | 'STORE_BAD_CURSOR'
  | 'STORE_BAD_TIME'
  | 'STORE_BAD_INPUT'
  | 'STORE_HOST_NAME_TAKEN'
  | 'STORE_ISOLATION_ACTIVE';

/** The connection string names a database the store cannot open. */
export class StoreConfigError extends DeminerError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('STORE_BAD_DATABASE_URL', message, options);
    this.name = 'StoreConfigError';
  }
}
