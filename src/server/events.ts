/**
 * The in-process event hub behind `GET /stream`: ingest, heartbeats and
 * configuration changes publish, stream clients subscribe. One process only; a bus shared between
 * servers (NATS) belongs in src/bus/ and would feed the same hub.
 */
export type HubEventType =
  | 'finding'
  | 'host'
  | 'config'
  // Isolation (src/respond/isolate/service.ts): an isolation requested, approved, applied, failed or released.
  | 'isolation'
  // The incident workflow (src/cases/): an incident opened or changed; an SLA clock breached (raised once).
  | 'incident'
  | 'incident.sla_breached';

export interface HubEvent {
  /** Increasing per hub: the SSE `id:` line. */
  id: number;
  type: HubEventType;
  data: unknown;
}

export type HubListener = (event: HubEvent) => void;

export class EventHub {
  readonly #listeners = new Set<HubListener>();
  #nextId = 1;

  /** Whether anyone listens: publishers skip the work of building events otherwise. */
  get listening(): boolean {
    return this.#listeners.size > 0;
  }

  get size(): number {
    return this.#listeners.size;
  }

  subscribe(listener: HubListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  publish(type: HubEventType, data: unknown): void {
    const event: HubEvent = { id: this.#nextId++, type, data };
    for (const l of [...this.#listeners]) {
      try {
        l(event);
      } catch {
        // One broken subscriber must not stop the others (or the publisher).
        this.#listeners.delete(l);
      }
    }
  }
}
