import type { ServerDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import type { HubEvent } from '../events.ts';
import { apiHost } from '../present.ts';
import { type ApiRoute, defineRoute, ROLE_SETS } from '../route.ts';

/**
 * `GET /stream`: Server-Sent Events of `finding` (new or changed, after an
 * ingest or acknowledgement), `host` (new host, status change) and `config`
 * (the fleet's agent configuration was set: read it again). A comment
 * line every `heartbeatMs` keeps proxies from closing an idle stream; a
 * client that reads too slowly is dropped rather than buffered without end.
 */
export interface StreamOptions {
  heartbeatMs: number;
  maxStreams: number;
}

/** Unsent bytes a client may fall behind by before it is dropped. */
const MAX_BACKLOG = 1 << 20;

export class StreamSet {
  readonly #closers = new Set<() => void>();

  get size(): number {
    return this.#closers.size;
  }

  add(close: () => void): () => void {
    this.#closers.add(close);
    return () => this.#closers.delete(close);
  }

  /** Ends every open stream (server shutdown). */
  closeAll(): void {
    for (const c of [...this.#closers]) c();
  }
}

export function streamRoutes(deps: ServerDeps, streams: StreamSet, opts: StreamOptions): ApiRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/stream',
      operationId: 'stream',
      summary: 'Live events (Server-Sent Events): `finding`, `host` and `config`',
      action: 'stream',
      access: ROLE_SETS.read,
      status: 200,
      response: {
        description:
          'An event stream: `event: finding|host|config`, `data:` the finding, the host, or who changed the agent configuration when, as JSON',
        contentType: 'text/event-stream',
      },
      errors: { 503: 'Too many open streams' },
      async handler({ req, reply }) {
        if (streams.size >= opts.maxStreams)
          throw new ApiError('DEMINER_UNAVAILABLE', 'too many open streams');
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-store',
          connection: 'keep-alive',
          'x-content-type-options': 'nosniff',
          // Tells a reverse proxy (nginx) not to buffer the stream.
          'x-accel-buffering': 'no',
        });
        let closed = false;
        const write = (text: string): void => {
          if (closed) return;
          if (res.writableLength > MAX_BACKLOG) {
            close();
            return;
          }
          res.write(text);
        };
        const onEvent = (e: HubEvent): void => {
          write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e.data)}\n\n`);
        };
        const unsubscribe = deps.hub.subscribe(onEvent);
        const timer = setInterval(() => write(': heartbeat\n\n'), opts.heartbeatMs);
        const forget = streams.add(() => close());
        function close(): void {
          if (closed) return;
          closed = true;
          clearInterval(timer);
          unsubscribe();
          forget();
          res.end();
        }
        req.raw.on('close', close);
        res.on('close', close);
        res.on('error', close);
        write('retry: 5000\n: connected\n\n');
        return reply;
      },
    }),
  ];
}

/**
 * Host statuses change with silence too (reporting → stale → offline) when
 * no request arrives: while anyone listens, hosts are re-read every
 * `intervalMs` and changes published. Returns the function that stops it.
 */
export function watchHostStatus(deps: ServerDeps, intervalMs: number): () => void {
  const known = new Map<string, string>();
  let primed = false;
  let running = false;
  const tick = async (): Promise<void> => {
    if (running) return;
    if (!deps.hub.listening) {
      primed = false;
      known.clear();
      return;
    }
    running = true;
    try {
      const now = Date.now();
      let cursor: string | undefined;
      for (let page = 0; page < 20; page++) {
        const p = await deps.store.listHosts({ limit: 500, ...(cursor === undefined ? {} : { cursor }) });
        for (const h of p.items) {
          const host = apiHost(h, deps.gaps, now);
          const before = known.get(host.id);
          known.set(host.id, host.status);
          if (primed && before !== host.status) deps.hub.publish('host', host);
        }
        if (p.next === null) break;
        cursor = p.next;
      }
      primed = true;
    } catch {
      // The next tick tries again; a stream is a convenience, the store is the truth.
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
