/**
 * What the bus tests share: the NATS server to use (DEMINER_TEST_NATS,
 * default nats://127.0.0.1:4222), names of a stream, subject and consumer
 * of their own per run (deleted at the end), and a wait until the consumer
 * has nothing left to deliver or to see acknowledged.
 */
import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';

export const NATS_URL = process.env.DEMINER_TEST_NATS || 'nats://127.0.0.1:4222';

export interface BusNames {
  stream: string;
  subject: string;
  consumer: string;
}

export function uniqueNames(): BusNames {
  const run = randomBytes(5).toString('hex');
  return {
    stream: `DEMINER_INGEST_TEST_${run}`,
    subject: `deminer.test.${run}.ingest.findings`,
    consumer: `deminer-ingest-test-${run}`,
  };
}

/** Why NATS with JetStream cannot be used here, or undefined when it can. */
export async function natsUnavailable(url = NATS_URL): Promise<string | undefined> {
  let nc: NatsConnection | undefined;
  try {
    nc = await connect({ servers: url, timeout: 3000, reconnect: false });
    const jsm = await jetstreamManager(nc, { timeout: 3000 });
    await jsm.getAccountInfo();
    return undefined;
  } catch (e) {
    return `NATS JetStream at ${url} is unreachable: ${e instanceof Error ? e.message : String(e)}`;
  } finally {
    await nc?.close().catch(() => undefined);
  }
}

/** A management connection for a test: waits and clean-up. */
export async function natsAdmin(names: BusNames, url = NATS_URL) {
  const nc = await connect({ servers: url, timeout: 3000 });
  const jsm = await jetstreamManager(nc);
  return {
    nc,
    jsm,
    /** Resolves once every message of the stream was delivered and acknowledged (or rejects after timeoutMs). */
    async drained(timeoutMs = 20_000): Promise<void> {
      const end = Date.now() + timeoutMs;
      let last = '';
      while (Date.now() < end) {
        const ci = await jsm.consumers.info(names.stream, names.consumer);
        last = `pending ${ci.num_pending}, awaiting ack ${ci.num_ack_pending}, delivered ${ci.delivered.stream_seq}`;
        if (ci.num_pending === 0 && ci.num_ack_pending === 0) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`the consumer did not drain within ${timeoutMs} ms (${last})`);
    },
    async cleanup(): Promise<void> {
      await jsm.streams.delete(names.stream).catch(() => undefined);
      await nc.close();
    },
  };
}
