import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { durationSchema, loadYamlStrict, parseYamlStrict } from '../core/config.ts';
import { FEED_FORMATS } from './parsers/index.ts';

const SIZE_RE = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)?$/i;
const SIZE_UNIT: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

export const sizeSchema = z.union([
  z.number().int().positive(),
  z.string().transform((s, ctx) => {
    const m = SIZE_RE.exec(s.trim());
    if (!m) {
      ctx.addIssue({ code: 'custom', message: `"${s}" is not a size (examples: 512KB, 20MB)` });
      return z.NEVER;
    }
    return Math.round(Number(m[1]) * SIZE_UNIT[(m[2] ?? 'b').toLowerCase()]!);
  }),
]);

const column = z.union([z.number().int().positive(), z.string().min(1)]);

export const feedSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'lower-case letters, digits, "_", "." and "-"'),
    url: z
      .string()
      .regex(/^https?:\/\//, 'an http:// or https:// URL')
      .optional(),
    file: z.string().min(1).optional(),
    format: z.enum(FEED_FORMATS).default('auto'),
    /** `block` feeds list bad things; `allow` feeds (warning lists, CDN ranges) override them. */
    role: z.enum(['block', 'allow']).optional(),
    interval: durationSchema.default(6 * 3_600_000),
    confidence: z.number().int().min(0).max(100).default(70),
    max_size: sizeSchema.default(50_000_000),
    timeout: durationSchema.default(30_000),
    retries: z.number().int().min(0).max(10).default(3),
    /** Indicators drop out this long after the feed last listed them; unset = while the feed lists them. */
    expire_after: durationSchema.optional(),
    csv: z
      .strictObject({
        delimiter: z.string().min(1).max(4).optional(),
        header: z.boolean().default(false),
        value: column,
        confidence: column.optional(),
        first_seen: column.optional(),
        last_seen: column.optional(),
      })
      .optional(),
    enabled: z.boolean().default(true),
  })
  .refine((f) => (f.url === undefined) !== (f.file === undefined), {
    message: 'give exactly one of url or file',
  })
  .refine((f) => f.format !== 'csv' || f.csv !== undefined, {
    message: 'format csv needs a csv: column spec',
  });

export const intelConfigSchema = z.strictObject({
  state_dir: z.string().min(1).optional(),
  /** The pool list shipped in data/intel. */
  builtin: z.boolean().default(true),
  /** The shared CDN ranges shipped in data/intel, allowed unless turned off. */
  builtin_allow: z.boolean().default(true),
  feeds: z.array(feedSchema).default([]),
  allow: z
    .strictObject({
      domains: z.array(z.string()).default([]),
      ips: z.array(z.string()).default([]),
      urls: z.array(z.string()).default([]),
    })
    .default({ domains: [], ips: [], urls: [] }),
  passive_dns: z
    .strictObject({
      enabled: z.boolean().default(true),
      min_ttl: durationSchema.default(5 * 60_000),
      max_ttl: durationSchema.default(24 * 3_600_000),
      max_entries: z.number().int().positive().default(100_000),
      confidence: z.number().int().min(0).max(100).default(60),
    })
    .prefault({}),
});

export type IntelConfig = z.infer<typeof intelConfigSchema>;
export type FeedConfig = z.infer<typeof feedSchema>;

/** The `intel:` section of a deminer config file; other sections belong to other parts. */
const fileSchema = z.looseObject({ intel: intelConfigSchema.prefault({}) });

export function defaultIntelConfig(): IntelConfig {
  return intelConfigSchema.parse({});
}

export function loadIntelConfig(file: string): IntelConfig {
  return loadYamlStrict(file, fileSchema).intel;
}

export function parseIntelConfig(text: string, where: string): IntelConfig {
  return parseYamlStrict(text, fileSchema, where).intel;
}

/** `--state-dir`, else `$DEMINER_HOME/intel`, else `~/.deminer/intel`. */
export function resolveStateDir(explicit?: string, config?: IntelConfig): string {
  if (explicit) return explicit;
  if (config?.state_dir) return config.state_dir.replace(/^~(?=$|\/)/, homedir());
  const home = process.env.DEMINER_HOME;
  return home ? join(home, 'intel') : join(homedir(), '.deminer', 'intel');
}

export function feedRole(feed: FeedConfig): 'block' | 'allow' {
  return feed.role ?? (feed.format === 'misp-warninglist' ? 'allow' : 'block');
}
