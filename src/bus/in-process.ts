import type { Store } from '../store/types.ts';
import type { IngestBatch, IngestBus } from './types.ts';

/** The default bus: the batch goes straight to the store, and the answer says what was stored. */
export function inProcessBus(store: Store): IngestBus {
  return {
    kind: 'in-process',
    submit(batch: IngestBatch) {
      return store.ingestFindings(batch.items, {
        ...(batch.idempotencyKey === undefined ? {} : { idempotencyKey: batch.idempotencyKey }),
        actor: batch.actor,
        at: batch.at,
      });
    },
    async close() {},
  };
}
