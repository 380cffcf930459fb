/**
 * Bounds on what a rule file may ask of the engine. Rule files can come
 * from anyone (`hunt --rules DIR` on a downloaded rule pack), so each bound
 * keeps one bad file from stalling or exhausting the whole run; a rule over
 * a bound is reported at load and skipped, and the other rules run.
 *
 * The figures sit far above SigmaHQ (2025): its largest rule file is 295 KB
 * (`driver_load_win_vuln_drivers.yml`, 4,432 values, 283,000 characters of
 * patterns), its longest value 217 characters, its deepest condition a few
 * parentheses.
 */
export const LIMITS = {
  /** Bytes of one rule file (a YAML stream of any number of rules). */
  ruleFileBytes: 1024 * 1024,
  /** YAML aliases per document: a few are normal, billions (nested aliases) are an attack. */
  yamlAliases: 100,
  /** Values (leaves of the detection) per rule. */
  valuesPerRule: 20_000,
  /** Characters of one value. */
  valueLength: 16 * 1024,
  /** Characters of patterns one rule compiles to, after windash, base64offset and utf16 expansion. */
  patternCharsPerRule: 1_000_000,
  /** Nesting of parentheses and `not` in a condition. */
  conditionDepth: 64,
  /** Matches kept per correlation group; later ones are counted as dropped. */
  correlationMatchesPerGroup: 100_000,
} as const;

/** Longest correlation timespan taken (ten years): the sliding windows are linear whatever it is. */
export const SIGMA_MAX_TIMESPAN_MS = 10 * 366 * 86_400_000;
