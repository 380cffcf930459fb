import { z } from 'zod';
import { durationSchema } from '../core/config.ts';

/** Algorithm and coin names: lower-case words, as the hash-rate and coin tables key them. */
const nameKey = z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/, 'a lower-case name (a-z, 0-9, _ and -)');

/** How much a coin pays, in the impact's currency (src/cases/impact.ts). */
export const coinConfigSchema = z.strictObject({
  /** Price of one coin in `currency`. */
  price: z.number().nonnegative().max(1e9),
  /** The whole network's hash rate, in hashes per second. */
  network_hashrate: z.number().positive().max(1e24),
  /** Coins per block (Monero: 0.6, its tail emission). */
  block_reward: z.number().positive().max(1e9).optional(),
  /** Seconds between blocks (Monero: 120). */
  block_time_s: z.number().positive().max(86_400).optional(),
  /** The proof-of-work algorithm, a key of `hashrate_per_core` (Monero: randomx). */
  algorithm: nameKey.optional(),
});

/**
 * The impact (cost) model's settings. Every number has a documented
 * default (src/cases/impact.ts IMPACT_DEFAULTS, docs/incidents.md) that the
 * report names as an assumption; coin prices and network hash rates have
 * none (they change by the hour): without them earnings are not estimated.
 */
export const impactConfigSchema = z
  .strictObject({
    /** Watts a busy core draws (default 15). */
    watts_per_core: z.number().positive().max(1000).optional(),
    /** Price of a kilowatt-hour in `currency` (default 0.25). */
    price_per_kwh: z.number().nonnegative().max(1000).optional(),
    /** ISO 4217 code (default EUR). */
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'an ISO 4217 currency code such as EUR')
      .optional(),
    /** Hashes per second one busy core computes, per algorithm (defaults: randomx 500, cryptonight 60). */
    hashrate_per_core: z
      .record(nameKey, z.number().positive().max(1e12))
      .refine((r) => Object.keys(r).length <= 50, 'at most 50 algorithms')
      .optional(),
    /** Coins the attacker may mine, by name (the wallet indicators' coin: monero, bytecoin). */
    coins: z
      .record(nameKey, coinConfigSchema)
      .refine((r) => Object.keys(r).length <= 50, 'at most 50 coins')
      .optional(),
  })
  .superRefine((cfg, ctx) => {
    for (const [name, coin] of Object.entries(cfg.coins ?? {})) {
      // Monero's protocol constants are known; any other coin states its own.
      if (name === 'monero') continue;
      for (const key of ['block_reward', 'block_time_s', 'algorithm'] as const) {
        if (coin[key] === undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['coins', name, key],
            message: `${name} needs ${key} (only monero's is known)`,
          });
      }
    }
  });
export type ImpactConfig = z.infer<typeof impactConfigSchema>;

/**
 * The `cases:` section of the config file (src/cli/config-file.ts):
 *
 *   cases:
 *     isolation_sla: 30m   # isolation due this long after discovery
 *     review_sla: 72h      # review due this long after recovery
 *     impact:              # the cost model (docs/incidents.md)
 *       watts_per_core: 15
 *       price_per_kwh: 0.25
 *       currency: EUR
 *       hashrate_per_core: { randomx: 500 }
 *       coins:
 *         monero: { price: 150, network_hashrate: 5.0e9 }
 *
 * `serve`/`up --isolation-sla/--review-sla` win over it.
 */
export const casesConfigSchema = z.strictObject({
  isolation_sla: durationSchema.optional(),
  review_sla: durationSchema.optional(),
  impact: impactConfigSchema.optional(),
});
export type CasesConfig = z.infer<typeof casesConfigSchema>;
