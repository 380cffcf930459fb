import type { NetEvent } from '../../core/net-event.ts';
import type { RuleDeclaration } from '../../core/stages.ts';
import type { NetworkContext } from './network-context.ts';
import type { NetworkDetectorOptions } from './options.ts';

/**
 * One network rule (or a pair that share their work): a folder under
 * `src/detect/network/` with an `index.ts` exporting this, and one line in
 * `registry.ts`.
 */
export interface NetworkRuleModule {
  /** The rule's folder name. */
  readonly folder: string;
  /** Everything it can emit; the conformance test holds it to this. */
  readonly rules: readonly RuleDeclaration[];
  /** The event kinds it reads; it is handed no others. */
  readonly kinds: readonly NetEvent['kind'][];
  /** Its state for one stream (a hunt or a sensor's lifetime): bounded, on event time. */
  create(context: NetworkContext, options: NetworkDetectorOptions): NetworkRuleInstance;
}

export interface NetworkRuleInstance {
  /** Adds what the event shows to the context's pending findings. */
  observe(e: NetEvent): void;
  /** Sizes and evictions of its own tables. */
  stats?(): Record<string, number>;
}
