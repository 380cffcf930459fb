/**
 * How POST /findings hands a batch to storage: at once, in this process
 * (`in-process.ts`, the default), or through a NATS JetStream stream that
 * every server of a deployment consumes from (`nats.ts`, `--nats`).
 */
import type { Finding } from '../core/finding.ts';
import type { IngestResult } from '../store/types.ts';

export interface IngestBatch {
  items: Finding[];
  /** Already scoped to the caller (`<token id>:<key>`); a repeated key stores nothing twice. */
  idempotencyKey?: string;
  /** Token id of the sender. */
  actor: string;
  /** When the server accepted the batch (ISO-8601). */
  at: string;
}

/** The batch was written durably to the bus and will be stored by a consumer. */
export interface Queued {
  queued: true;
}

export interface IngestBus {
  readonly kind: 'in-process' | 'nats';
  /** Stores the batch (in-process) or answers once the bus holds it durably (NATS). */
  submit(batch: IngestBatch): Promise<IngestResult | Queued>;
  /** Stops consuming and lets go of connections; the store stays open (its owner closes it). */
  close(): Promise<void>;
}

/** Told after a consumer stored a batch (e.g. to feed the live stream of this server). */
export type StoredListener = (items: readonly Finding[], result: IngestResult) => void | Promise<void>;

/** The bus could not take the batch (NATS down, no acknowledgement in time): the client should retry. */
export class BusUnavailableError extends Error {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = 'BusUnavailableError';
  }
}

export function isQueued(r: IngestResult | Queued): r is Queued {
  return 'queued' in r && r.queued === true;
}
