/** Kinds of indicator the store holds; CIDRs keep the family they belong to. */
export const INDICATOR_TYPES = [
  'domain',
  'ipv4',
  'ipv6',
  'ipv4-cidr',
  'ipv6-cidr',
  'ip-port',
  'url',
] as const;
export type IndicatorType = (typeof INDICATOR_TYPES)[number];

/** One indicator as a feed states it, before it goes into the store. */
export interface Indicator {
  /** Canonical text: lower-case domain, compressed IP, `ip/len`, `ip:port` (`[v6]:port`), normalised URL. */
  value: string;
  type: IndicatorType;
  source: string;
  /** 0..100, as in STIX and MISP. */
  confidence: number;
  /** Epoch milliseconds; 0 when the feed does not say. */
  firstSeen?: number;
  lastSeen?: number;
  /** Epoch milliseconds after which the indicator no longer matches; 0 = never. */
  expires?: number;
}

/** What a lookup reports for each indicator that matched. */
export interface IntelMatch {
  indicator: string;
  type: IndicatorType;
  source: string;
  confidence: number;
  firstSeen?: string;
  lastSeen?: string;
  expires?: string;
  /** Passive DNS: the listed domain whose answer carried this address. */
  via?: string;
}

/**
 * The answer to one lookup. `listed` is true when something matched and no
 * allow-list entry covers the value: the allow-list always wins, and the
 * feed matches it overrode stay visible in `matches`.
 */
export interface IntelVerdict {
  listed: boolean;
  allowed: boolean;
  matches: readonly IntelMatch[];
  allowedBy?: readonly IntelMatch[];
}

export const NO_MATCH: IntelVerdict = Object.freeze({
  listed: false,
  allowed: false,
  matches: Object.freeze([]) as readonly IntelMatch[],
});
