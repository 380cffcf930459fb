import type { Finding } from '../../core/finding.ts';
import type { NetEvent } from '../../core/net-event.ts';
import type { RuleDeclaration, StreamDetector } from '../../core/stages.ts';
import { NetworkContext } from './network-context.ts';
import type { NetworkRuleInstance, NetworkRuleModule } from './network-rule.ts';
import type { NetworkDetectorOptions } from './options.ts';
import { NETWORK_RULES } from './registry.ts';

export type { NetworkDetectorOptions, NetworkLimits } from './options.ts';

type Kind = NetEvent['kind'];

/** What `observe` mostly returns: findings come out through `drain()`. Frozen, so that no caller can fill it for the next. */
const NOTHING: Finding[] = [];
Object.freeze(NOTHING);

/**
 * The network rules of `registry.ts` over one stream of `NetEvent`s: a
 * capture, a day of Zeek or Suricata logs read as one, or a sensor's whole
 * life. Observations are gathered per fingerprint (frames collected as
 * evidence) and handed out by `drain()` and `finalize()`; `observe` hands
 * out only findings that the bounded pending table had to let go (so that a
 * caller streaming them, or dropping low ones, holds nothing). Pure: time comes from the events, never the clock, and
 * every table is bounded (see `stats()`).
 */
export class NetworkDetector implements StreamDetector<NetEvent> {
  readonly id = 'network';
  readonly description = 'Mining pool traffic, DGA-like names and connection bursts in network observations';
  readonly rules: readonly RuleDeclaration[];
  readonly #context: NetworkContext;
  readonly #instances: NetworkRuleInstance[];
  /** Per event kind, the rules that read it, in registry order. */
  readonly #byKind: Partial<Record<Kind, NetworkRuleInstance[]>> = {};

  constructor(opts: NetworkDetectorOptions, modules: readonly NetworkRuleModule[] = NETWORK_RULES) {
    this.#context = new NetworkContext(opts);
    this.rules = modules.flatMap((m) => m.rules);
    this.#instances = [];
    for (const m of modules) {
      const instance = m.create(this.#context, opts);
      this.#instances.push(instance);
      for (const k of m.kinds) {
        const readers = this.#byKind[k] ?? [];
        readers.push(instance);
        this.#byKind[k] = readers;
      }
    }
  }

  /** The name a DNS answer in the stream gave this address (passive DNS; nothing is resolved). */
  domainOf(ip: string): string | undefined {
    return this.#context.domainOf(ip);
  }

  observe(e: NetEvent): Finding[] {
    this.#context.begin(e);
    const rules = this.#byKind[e.kind];
    // Kinds no rule reads (DHCP) only teach the context.
    if (rules !== undefined) for (const r of rules) r.observe(e);
    return this.#context.takeEarly() ?? NOTHING;
  }

  /** Findings not handed out yet (a live capture calls this periodically). */
  drain(): Finding[] {
    return this.#context.drain();
  }

  finalize(): Finding[] {
    return this.drain();
  }

  stats(): Record<string, number> {
    const out = this.#context.stats();
    for (const r of this.#instances) if (r.stats) Object.assign(out, r.stats());
    return out;
  }
}
