import type { NetEvent } from '../../../core/net-event.ts';
import type { RuleDeclaration } from '../../../core/stages.ts';
import { RecentCache } from '../lru-map.ts';
import type { NetworkContext } from '../network-context.ts';
import type { NetworkRuleInstance, NetworkRuleModule } from '../network-rule.ts';
import type { NetworkDetectorOptions } from '../options.ts';

export const CONNECTION_RATE: RuleDeclaration = {
  id: 'deminer.network.connection_rate',
  name: 'Burst of new outbound connections',
  ruleset: 'builtin',
  severity: { min: 'medium', max: 'medium' },
  techniques: ['T1046'],
  triage:
    'Look at which process opens the connections: scanning, spreading (worms drop miners) or a miner cycling through pools.',
};

/**
 * More than `rateLimit` new outbound connections from one source within
 * `rateWindowMs`. Windows are kept for the most recently active sources only,
 * so that a capture of a large network does not hold one for every address.
 */
class ConnectionRate implements NetworkRuleInstance {
  readonly #ctx: NetworkContext;
  readonly #limit: number;
  readonly #windowMs: number;
  /** Source → times of its new connections within the window, oldest first. */
  readonly #windows: RecentCache<string, number[]>;

  constructor(ctx: NetworkContext, opts: NetworkDetectorOptions) {
    this.#ctx = ctx;
    this.#limit = opts.rateLimit ?? 50;
    this.#windowMs = opts.rateWindowMs ?? 60_000;
    this.#windows = new RecentCache(ctx.limits.connectionRateSources);
  }

  observe(e: NetEvent): void {
    if (!e.opened || !this.#ctx.isOutboundOrInternal(e)) return;
    const src = e.src!.ip;
    let times = this.#windows.get(src);
    if (!times) {
      times = [];
      this.#windows.set(src, times);
    }
    times.push(e.tsMs);
    const from = e.tsMs - this.#windowMs;
    let drop = 0;
    while (drop < times.length && times[drop]! < from) drop++;
    if (drop > 0) times.splice(0, drop);
    if (times.length <= this.#limit) return;
    const p = this.#ctx.record(
      e,
      CONNECTION_RATE,
      'medium',
      src,
      [],
      () =>
        `${src} opened more than ${this.#limit} new outbound connections within ${this.#windowMs / 1000} s (scanning, spreading or a miner cycling pools); look at which process opens them.`,
    );
    const peak = Math.max(Number(p.evidence['peak_connections_per_window'] ?? 0), times.length);
    p.evidence['peak_connections_per_window'] = peak;
    // Keep the window short-lived: once reported, the list only needs the limit's worth.
    if (times.length > this.#limit * 4) times.splice(0, times.length - this.#limit * 2);
  }

  stats(): Record<string, number> {
    return {
      connection_rate_sources: this.#windows.size,
      connection_rate_sources_evicted: this.#windows.evicted,
    };
  }
}

export const connectionRate: NetworkRuleModule = {
  folder: 'connection-rate',
  rules: [CONNECTION_RATE],
  kinds: ['flow'],
  create: (ctx, opts) => new ConnectionRate(ctx, opts),
};
