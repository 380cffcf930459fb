/**
 * The ingest bus on NATS JetStream (`--nats nats://…`). POST /findings
 * publishes the batch to a file-backed stream and answers once JetStream
 * has acknowledged it; every server process pulls from one shared durable
 * consumer (work queue: each message goes to one of them) and stores what
 * it takes under the batch's idempotency key, so a message delivered again
 * after a crash (stored, not yet acknowledged) stores nothing twice.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamClient,
  type JsMsg,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Finding } from '../core/finding.ts';
import { StoreInputError } from '../store/errors.ts';
import type { IngestResult, Store } from '../store/types.ts';
import {
  BusUnavailableError,
  type IngestBatch,
  type IngestBus,
  type Queued,
  type StoredListener,
} from './types.ts';

export const NATS_DEFAULTS = {
  stream: 'DEMINER_INGEST',
  subject: 'deminer.ingest.findings',
  consumer: 'deminer-ingest',
  /** A message not acknowledged this long after delivery goes to another consumer. */
  ackWaitMs: 30_000,
  /** Deliveries of one message before it is given up (failures that are not the batch's fault). */
  maxDeliver: 10,
  /** How long a publish waits for JetStream's acknowledgement. */
  publishTimeoutMs: 5_000,
  /** Messages one process takes at a time. */
  batch: 8,
} as const;

export interface NatsBusOptions {
  /** `nats://host:4222`, or several separated by commas. */
  url: string;
  store: Store;
  stream?: string;
  subject?: string;
  consumer?: string;
  ackWaitMs?: number;
  maxDeliver?: number;
  publishTimeoutMs?: number;
}

/** Pino-like (Fastify's `app.log` fits). */
export interface BusLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const SILENT: BusLog = { info() {}, warn() {}, error() {} };

/** What one message carries. */
interface Envelope {
  v: 1;
  items: Finding[];
  actor: string;
  at: string;
  /** The store's idempotency key: the client's (scoped), or one made for this message. */
  key: string;
}

export interface ConsumerStats {
  /** Batches stored (first delivery or a redelivery the store had not seen). */
  stored: number;
  /** Deliveries whose key the store knew: nothing written. */
  replayed: number;
  /** Messages refused (unreadable, or refused by the store): acknowledged, never retried. */
  refused: number;
  /** Deliveries that failed for another reason (store down): delivered again later. */
  failed: number;
}

export interface NatsBus extends IngestBus {
  readonly kind: 'nats';
  readonly stats: ConsumerStats;
  /** Starts this process's share of the durable consumer. */
  startConsuming(opts?: { log?: BusLog; onStored?: StoredListener }): void;
}

/** Connects, creates the stream and the durable consumer when missing, and returns the bus (not yet consuming). */
export async function openNatsBus(opts: NatsBusOptions): Promise<NatsBus> {
  const stream = opts.stream ?? NATS_DEFAULTS.stream;
  const subject = opts.subject ?? NATS_DEFAULTS.subject;
  const durable = opts.consumer ?? NATS_DEFAULTS.consumer;
  const ackWaitMs = opts.ackWaitMs ?? NATS_DEFAULTS.ackWaitMs;
  const maxDeliver = opts.maxDeliver ?? NATS_DEFAULTS.maxDeliver;
  const publishTimeoutMs = opts.publishTimeoutMs ?? NATS_DEFAULTS.publishTimeoutMs;
  const nc = await connect({
    servers: opts.url.split(',').map((s) => s.trim()),
    name: 'deminer-serve',
    timeout: 5_000,
    maxReconnectAttempts: -1,
  });
  try {
    const jsm = await jetstreamManager(nc);
    // Adding is idempotent for the same configuration; an existing stream is used as it is.
    const known = await jsm.streams.info(stream).catch(() => undefined);
    if (!known) {
      await jsm.streams
        .add({
          name: stream,
          subjects: [subject],
          storage: StorageType.File,
          retention: RetentionPolicy.Workqueue,
          duplicate_window: 120_000 * 1_000_000,
        })
        .catch(async (e: unknown) => {
          // Another server created it meanwhile.
          if (!(await jsm.streams.info(stream).catch(() => undefined))) throw e;
        });
    }
    const haveConsumer = await jsm.consumers.info(stream, durable).catch(() => undefined);
    if (!haveConsumer) {
      await jsm.consumers
        .add(stream, {
          durable_name: durable,
          ack_policy: AckPolicy.Explicit,
          ack_wait: ackWaitMs * 1_000_000,
          max_deliver: maxDeliver,
          deliver_policy: DeliverPolicy.All,
          filter_subject: subject,
        })
        .catch(async (e: unknown) => {
          if (!(await jsm.consumers.info(stream, durable).catch(() => undefined))) throw e;
        });
    }
  } catch (e) {
    await nc.close().catch(() => undefined);
    throw e;
  }
  return new JetStreamBus(nc, jetstream(nc), opts.store, {
    stream,
    subject,
    durable,
    maxDeliver,
    publishTimeoutMs,
  });
}

class JetStreamBus implements NatsBus {
  readonly kind = 'nats';
  readonly stats: ConsumerStats = { stored: 0, replayed: 0, refused: 0, failed: 0 };
  #messages: ConsumerMessages | undefined;
  #loop: Promise<void> | undefined;
  #closing = false;
  #closed: Promise<void> | undefined;
  #log: BusLog = SILENT;
  #onStored: StoredListener | undefined;

  constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly store: Store,
    readonly cfg: {
      stream: string;
      subject: string;
      durable: string;
      maxDeliver: number;
      publishTimeoutMs: number;
    },
  ) {}

  async submit(batch: IngestBatch): Promise<Queued> {
    if (this.#closing) throw new BusUnavailableError('the server is shutting down');
    const envelope: Envelope = {
      v: 1,
      items: batch.items,
      actor: batch.actor,
      at: batch.at,
      key: batch.idempotencyKey ?? `bus:${randomUUID()}`,
    };
    // A retried publish carries the same id, and the stream keeps only the first (its duplicate window).
    const msgID = batch.idempotencyKey ?? `sha256:${bodyHash(batch.actor, batch.items)}`;
    try {
      await this.js.publish(this.cfg.subject, JSON.stringify(envelope), {
        msgID,
        timeout: this.cfg.publishTimeoutMs,
      });
    } catch (e) {
      throw new BusUnavailableError(
        `the ingest stream did not take the batch: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    }
    return { queued: true };
  }

  startConsuming(opts: { log?: BusLog; onStored?: StoredListener } = {}): void {
    if (this.#loop || this.#closing) return;
    this.#log = opts.log ?? SILENT;
    this.#onStored = opts.onStored;
    this.#loop = this.#consume().catch((e: unknown) => {
      if (!this.#closing) this.#log.error({ err: e }, 'bus: the ingest consumer stopped');
    });
  }

  async #consume(): Promise<void> {
    const consumer = await this.js.consumers.get(this.cfg.stream, this.cfg.durable);
    if (this.#closing) return;
    const messages = await consumer.consume({ max_messages: NATS_DEFAULTS.batch });
    this.#messages = messages;
    if (this.#closing) await messages.close();
    for await (const m of messages) {
      // Taken but not begun when closing: straight back to the stream for another server.
      if (this.#closing) m.nak();
      else await this.#handle(m);
    }
  }

  async #handle(m: JsMsg): Promise<void> {
    let env: Envelope;
    try {
      env = readEnvelope(m.data);
    } catch (e) {
      this.stats.refused++;
      this.#log.error({ err: e, seq: m.seq }, 'bus: unreadable ingest message acknowledged and dropped');
      m.ack();
      return;
    }
    let result: IngestResult;
    try {
      result = await this.store.ingestFindings(env.items, {
        idempotencyKey: env.key,
        actor: env.actor,
        at: env.at,
      });
    } catch (e) {
      if (e instanceof StoreInputError) {
        this.stats.refused++;
        this.#log.error(
          { err: e, seq: m.seq, actor: env.actor, items: env.items.length },
          'bus: the store refused a queued batch; acknowledged and dropped',
        );
        m.ack();
        return;
      }
      this.stats.failed++;
      const n = m.info.deliveryCount;
      if (n >= this.cfg.maxDeliver) {
        this.#log.error(
          { err: e, seq: m.seq, deliveries: n },
          'bus: a queued batch could not be stored and is given up',
        );
        m.term('not stored after the last delivery');
      } else {
        this.#log.warn({ err: e, seq: m.seq, deliveries: n }, 'bus: storing a queued batch failed; retrying');
        m.nak(Math.min(30_000, 500 * 2 ** n));
      }
      return;
    }
    m.ack();
    if (result.replayed) this.stats.replayed++;
    else {
      this.stats.stored++;
      if (this.#onStored) {
        try {
          await this.#onStored(env.items, result);
        } catch (e) {
          this.#log.warn({ err: e }, 'bus: stream publish failed');
        }
      }
    }
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#closing = true;
      await this.#messages?.close().catch(() => undefined);
      await this.#loop;
      // Drain: publishes and acknowledgements in flight reach the server before the connection ends.
      await this.nc.drain().catch(() => this.nc.close());
    })();
    return this.#closed;
  }
}

function bodyHash(actor: string, items: readonly Finding[]): string {
  return createHash('sha256').update(actor).update('\n').update(JSON.stringify(items)).digest('hex');
}

function readEnvelope(data: Uint8Array): Envelope {
  const v = JSON.parse(new TextDecoder().decode(data)) as Partial<Envelope> | null;
  if (
    typeof v !== 'object' ||
    v === null ||
    !Array.isArray(v.items) ||
    typeof v.actor !== 'string' ||
    typeof v.at !== 'string' ||
    typeof v.key !== 'string'
  ) {
    throw new Error('not an ingest batch (items, actor, at, key)');
  }
  return { v: 1, items: v.items, actor: v.actor, at: v.at, key: v.key };
}
