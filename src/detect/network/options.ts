import type { HostNames } from '../../core/host-identity.ts';
import type { IntelEngine } from '../../intel/index.ts';
import type { PoolCheck } from '../pool-match/pool-check.ts';
import type { DgaHostRule } from './dga-host/minimum.ts';
import type { NetworkLists } from './lists.ts';

export interface NetworkDetectorOptions {
  lists: NetworkLists;
  /**
   * Threat intelligence for pool names and addresses (the caller builds it:
   * `loadDefaultIntel()`); without it only the built-in list of pool
   * domains in `lists` is checked.
   */
  intel?: IntelEngine | undefined;
  /** New outbound connections from one source within `rateWindowMs` above which it is reported. */
  rateLimit?: number;
  rateWindowMs?: number;
  randomThreshold?: number;
  /** Scores names 0..1; defaults to the built-in randomness measure. */
  scoreName?: (name: string) => number;
  /** Passive DNS entries kept (IP → name), least recently answered dropped first. */
  maxPassiveDns?: number;
  /**
   * When a host is reported for resolving many DGA-like registered domains
   * within `dgaHostWindowMs` (default one hour): see `dga-host/minimum.ts`.
   */
  dgaHostRule?: Partial<DgaHostRule>;
  dgaHostWindowMs?: number;
  /**
   * Names learned for addresses (DHCP, PTR answers, an asset map); findings
   * name their host by it. The detector adds what the stream teaches it; pass
   * one to share it with other detectors or to seed it from an asset map.
   */
  hostNames?: HostNames;
  /**
   * The pool matcher to feed (one per run, shared with the event-log pool
   * checks of the same hunt); default: its own, from `intel` and `lists`.
   */
  pools?: PoolCheck;
  /** Sizes of the detector's bounded tables; the defaults suit a sensor on a large network. */
  limits?: Partial<NetworkLimits>;
}

/** How many entries each table holds before the least recently seen goes. */
export interface NetworkLimits {
  /** Findings being aggregated plus those handed out (kept so that they are not handed out twice). */
  pendingFindings: number;
  /** Sources whose connection-rate window is held. */
  connectionRateSources: number;
  /** Names whose pool verdict and randomness score are remembered. */
  names: number;
  /** Addresses whose internal/external verdict is remembered. */
  addressRanges: number;
  /** Hosts whose DNS window (dga_host) is held. */
  dnsWindowHosts: number;
  /** Names held in all DNS windows together. */
  dnsWindowNames: number;
}

export const DEFAULT_LIMITS: NetworkLimits = {
  pendingFindings: 50_000,
  connectionRateSources: 50_000,
  names: 200_000,
  addressRanges: 100_000,
  dnsWindowHosts: 100_000,
  dnsWindowNames: 1_000_000,
};
