import { DeminerError } from '../core/errors.ts';
import type { StoreContext } from './context.ts';
import { StoreInputError } from './errors.ts';
import type { AgentSettings, StoredAgentSettings } from './types.ts';
import { isoFromMs, shortText } from './values.ts';

/**
 * Server-wide settings, one JSON value per key in `settings`. The agent
 * configuration is the first: set once through the API, handed to every
 * agent at heartbeat, so that a fleet is tuned in one place. The server
 * checks what it means (the allow-list must parse); the store checks only
 * shapes and sizes, so that no caller can grow the table without bound.
 */

/** Bounds of the agent configuration (the API's schema uses the same). */
export const AGENT_CONFIG_LIMITS = {
  minIntervalS: 5,
  maxIntervalS: 3600,
  maxNeverAlert: 1000,
  maxNeverAlertLength: 200,
  maxAllowlistBytes: 1024 * 1024,
} as const;

const AGENT_CONFIG_KEY = 'agent_config';

/** The configuration as the store keeps it, or a StoreInputError naming the field. */
function checkAgentSettings(c: AgentSettings): AgentSettings {
  const L = AGENT_CONFIG_LIMITS;
  if (!Number.isInteger(c.intervalS) || c.intervalS < L.minIntervalS || c.intervalS > L.maxIntervalS) {
    throw new StoreInputError(
      'STORE_BAD_INPUT',
      `must be an integer from ${L.minIntervalS} to ${L.maxIntervalS}`,
      { location: 'intervalS' },
    );
  }
  const out: AgentSettings = { intervalS: c.intervalS };
  if (c.allowlist !== undefined) {
    if (
      typeof c.allowlist !== 'string' ||
      c.allowlist.length === 0 ||
      Buffer.byteLength(c.allowlist, 'utf8') > L.maxAllowlistBytes
    ) {
      throw new StoreInputError('STORE_BAD_INPUT', `must be text of 1 byte to ${L.maxAllowlistBytes} bytes`, {
        location: 'allowlist',
      });
    }
    out.allowlist = c.allowlist;
  }
  if (c.neverAlert !== undefined) {
    if (!Array.isArray(c.neverAlert) || c.neverAlert.length > L.maxNeverAlert) {
      throw new StoreInputError('STORE_BAD_INPUT', `must be a list of at most ${L.maxNeverAlert} ids`, {
        location: 'neverAlert',
      });
    }
    out.neverAlert = c.neverAlert.map((id, i) => shortText(id, `neverAlert[${i}]`, L.maxNeverAlertLength));
  }
  return out;
}

function corrupt(why: string): DeminerError {
  // Only a hand-edited row gets here; guessing a default could silently re-enable alerts someone muted.
  return new DeminerError('STORE_BAD_SETTING', `the stored agent configuration is unreadable: ${why}`);
}

function readAgentSettings(value: string): AgentSettings {
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch {
    throw corrupt('not JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw corrupt('not an object');
  const o = raw as Record<string, unknown>;
  const c: AgentSettings = { intervalS: o.intervalS as number };
  if (o.allowlist !== undefined) c.allowlist = o.allowlist as string;
  if (o.neverAlert !== undefined) c.neverAlert = o.neverAlert as string[];
  try {
    return checkAgentSettings(c);
  } catch (e) {
    throw corrupt(e instanceof Error ? e.message : String(e));
  }
}

export async function getAgentConfig(ctx: StoreContext): Promise<StoredAgentSettings | undefined> {
  const row = await ctx.db
    .selectFrom('settings')
    .selectAll()
    .where('key', '=', AGENT_CONFIG_KEY)
    .executeTakeFirst();
  if (!row) return undefined;
  return { config: readAgentSettings(row.value), updatedAt: row.updated_at, updatedBy: row.updated_by };
}

/** Replaces the whole configuration (what is left out is unset); one statement, so concurrent writers leave one of them whole. */
export async function setAgentConfig(
  ctx: StoreContext,
  config: AgentSettings,
  actor: string,
): Promise<StoredAgentSettings> {
  const checked = checkAgentSettings(config);
  const by = shortText(actor, 'actor', 200);
  const at = isoFromMs(ctx.now());
  const value = JSON.stringify(checked);
  await ctx.db
    .insertInto('settings')
    .values({ key: AGENT_CONFIG_KEY, value, updated_at: at, updated_by: by })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: at, updated_by: by }))
    .execute();
  return { config: checked, updatedAt: at, updatedBy: by };
}
