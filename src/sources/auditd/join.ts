import type { AuditRecord } from './record.ts';

/** Bounds of the joiner: what one malformed or hostile log can make it hold. */
export const AUDIT_LIMITS = {
  /** Records kept per event (a SYSCALL with many PATH items stays far below); later ones are dropped and counted. */
  recordsPerEvent: 256,
  /** Events waiting for their end; past it the oldest is completed as it is. */
  pendingEvents: 1024,
  /**
   * An event whose EOE has not come is complete once a record this many
   * seconds later (log time) is read: the kernel emits an event's records
   * together, and records without an EOE (user-space PAM, login and service
   * messages) would otherwise wait for the end of the file.
   */
  eventTimeoutSeconds: 2,
} as const;

export interface AuditEvent {
  /** `seconds.millis:serial`, unique per event on one host. */
  id: string;
  seconds: number;
  millis: number;
  serial: number;
  node?: string;
  records: AuditRecord[];
  /** Records dropped past AUDIT_LIMITS.recordsPerEvent. */
  dropped: number;
  /** Whether the event ended with its EOE record (false: flushed by time, bound or end of input). */
  ended: boolean;
}

export interface JoinStats {
  events: number;
  /** Events completed without their EOE because the pending table was full. */
  evictedEarly: number;
  recordsDropped: number;
}

/**
 * Joins the records of one audit event (same node, timestamp and serial:
 * SYSCALL, EXECVE, CWD, PATH…, PROCTITLE, then EOE) into one event.
 * Records of different events may interleave, so several events are pending
 * at once; completed events come out in the order they were completed.
 */
export class AuditJoiner {
  readonly #pending = new Map<string, AuditEvent>();
  readonly stats: JoinStats = { events: 0, evictedEarly: 0, recordsDropped: 0 };
  #newest = 0;

  push(rec: AuditRecord): AuditEvent[] {
    const out: AuditEvent[] = [];
    const id = `${rec.node ?? ''}|${rec.seconds}.${String(rec.millis).padStart(3, '0')}:${rec.serial}`;
    if (rec.seconds > this.#newest) {
      this.#newest = rec.seconds;
      this.#expire(out);
    }
    let ev = this.#pending.get(id);
    if (rec.type === 'EOE') {
      if (ev) {
        this.#pending.delete(id);
        ev.ended = true;
        out.push(this.#done(ev));
      }
      return out;
    }
    if (!ev) {
      if (this.#pending.size >= AUDIT_LIMITS.pendingEvents) {
        const oldest = this.#pending.keys().next().value!;
        const old = this.#pending.get(oldest)!;
        this.#pending.delete(oldest);
        this.stats.evictedEarly++;
        out.push(this.#done(old));
      }
      ev = {
        id: `${rec.seconds}.${String(rec.millis).padStart(3, '0')}:${rec.serial}`,
        seconds: rec.seconds,
        millis: rec.millis,
        serial: rec.serial,
        records: [],
        dropped: 0,
        ended: false,
      };
      if (rec.node) ev.node = rec.node;
      this.#pending.set(id, ev);
    }
    if (ev.records.length < AUDIT_LIMITS.recordsPerEvent) ev.records.push(rec);
    else {
      ev.dropped++;
      this.stats.recordsDropped++;
    }
    return out;
  }

  /** End of input: every pending event, oldest first. */
  flush(): AuditEvent[] {
    const out = [...this.#pending.values()].map((e) => this.#done(e));
    this.#pending.clear();
    return out;
  }

  #expire(out: AuditEvent[]): void {
    for (const [k, ev] of this.#pending) {
      if (this.#newest - ev.seconds <= AUDIT_LIMITS.eventTimeoutSeconds) continue;
      this.#pending.delete(k);
      out.push(this.#done(ev));
    }
  }

  #done(ev: AuditEvent): AuditEvent {
    this.stats.events++;
    return ev;
  }
}
