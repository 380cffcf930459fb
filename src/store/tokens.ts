import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { StoreContext } from './context.ts';
import { StoreInputError } from './errors.ts';
import { upsertHost } from './hosts.ts';
import type { TokensTable } from './schema.ts';
import { ENROLMENT_PREFIX, hashSecret, looksLike, newSecret, sameHash, TOKEN_PREFIX } from './secrets.ts';
import { type EnrolmentRecord, type HostRecord, ROLES, type Role, type TokenRecord } from './types.ts';
import { isoFromMs, isoTime, optionalText, shortText } from './values.ts';

/** lastUsedAt is refreshed at most this often, so that every API call is not also a write. */
const LAST_USED_RESOLUTION_MS = 60_000;

function tokenFromRow(r: Selectable<TokensTable>): TokenRecord {
  const t: TokenRecord = { id: r.id, role: r.role as Role, name: r.name, createdAt: r.created_at };
  if (r.host_id !== null) t.hostId = r.host_id;
  if (r.last_used_at !== null) t.lastUsedAt = r.last_used_at;
  if (r.revoked_at !== null) t.revokedAt = r.revoked_at;
  return t;
}

function checkRole(role: unknown): Role {
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) {
    throw new StoreInputError('STORE_BAD_INPUT', `role must be one of ${ROLES.join(', ')}`, {
      location: 'role',
    });
  }
  return role as Role;
}

export async function createToken(
  ctx: StoreContext,
  t: { role: Role; name: string; hostId?: string },
): Promise<{ token: string; record: TokenRecord }> {
  const token = newSecret(TOKEN_PREFIX);
  const row: Selectable<TokensTable> = {
    id: randomUUID(),
    hash: hashSecret(token),
    role: checkRole(t.role),
    name: shortText(t.name, 'name', 200),
    host_id: optionalText(t.hostId, 'hostId', 128),
    created_at: isoFromMs(ctx.now()),
    last_used_at: null,
    revoked_at: null,
  };
  await ctx.db.insertInto('tokens').values(row).execute();
  return { token, record: tokenFromRow(row) };
}

export async function verifyToken(ctx: StoreContext, token: string): Promise<TokenRecord | undefined> {
  if (!looksLike(token, TOKEN_PREFIX)) return undefined;
  const hash = hashSecret(token);
  const row = await ctx.db.selectFrom('tokens').selectAll().where('hash', '=', hash).executeTakeFirst();
  // The index lookup found the row; the constant-time compare is the check that counts.
  if (!row || !sameHash(row.hash, hash) || row.revoked_at !== null) return undefined;
  const now = ctx.now();
  if (row.last_used_at === null || Date.parse(row.last_used_at) <= now - LAST_USED_RESOLUTION_MS) {
    row.last_used_at = isoFromMs(now);
    await ctx.db
      .updateTable('tokens')
      .set({ last_used_at: row.last_used_at })
      .where('id', '=', row.id)
      .execute();
  }
  return tokenFromRow(row);
}

export async function revokeToken(ctx: StoreContext, id: string): Promise<boolean> {
  const r = await ctx.db
    .updateTable('tokens')
    .set({ revoked_at: isoFromMs(ctx.now()) })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

export async function listTokens(ctx: StoreContext): Promise<TokenRecord[]> {
  const rows = await ctx.db.selectFrom('tokens').selectAll().orderBy('created_at').orderBy('id').execute();
  return rows.map(tokenFromRow);
}

export async function createEnrolment(
  ctx: StoreContext,
  e: { expiresAt: string; uses: number; createdBy: string },
): Promise<{ secret: string; record: EnrolmentRecord }> {
  if (!Number.isInteger(e.uses) || e.uses < 1 || e.uses > 100_000) {
    throw new StoreInputError('STORE_BAD_INPUT', 'must be an integer from 1 to 100000', { location: 'uses' });
  }
  const secret = newSecret(ENROLMENT_PREFIX);
  const record: EnrolmentRecord = {
    id: randomUUID(),
    createdAt: isoFromMs(ctx.now()),
    expiresAt: isoTime(e.expiresAt, 'expiresAt'),
    usesLeft: e.uses,
    createdBy: shortText(e.createdBy, 'createdBy', 200),
  };
  await ctx.db
    .insertInto('enrolments')
    .values({
      id: record.id,
      hash: hashSecret(secret),
      created_at: record.createdAt,
      expires_at: record.expiresAt,
      uses_left: record.usesLeft,
      created_by: record.createdBy,
    })
    .execute();
  return { secret, record };
}

/**
 * One transaction: spend a use (a conditional decrement, so two enrols
 * racing for the last use cannot both win), create or take over the host,
 * issue its agent token. A host name already reporting through an agent is
 * the same machine enrolling again (reinstalled): it keeps its id and gets
 * a new token; its old tokens stay valid until revoked.
 */
export async function enrol(
  ctx: StoreContext,
  secret: string,
  host: {
    name: string;
    os?: string;
    kernel?: string;
    addresses?: string[];
    agentVersion?: string;
    cpus?: number;
    wattsPerCore?: number;
  },
): Promise<{ token: string; host: HostRecord } | undefined> {
  if (!looksLike(secret, ENROLMENT_PREFIX)) return undefined;
  const hash = hashSecret(secret);
  const name = shortText(host.name, 'host.name', 255);
  return ctx.db.transaction().execute(async (trx) => {
    const now = isoFromMs(ctx.now());
    const spent = await trx
      .updateTable('enrolments')
      .set((eb) => ({ uses_left: eb('uses_left', '-', 1) }))
      .where('hash', '=', hash)
      .where('uses_left', '>', 0)
      .where('expires_at', '>', now)
      .returning(['id', 'hash'])
      .executeTakeFirst();
    if (!spent || !sameHash(spent.hash, hash)) return undefined;
    const holder = await trx
      .selectFrom('hosts')
      .select(['id', 'agent'])
      .where('name', '=', name)
      .executeTakeFirst();
    const id = holder?.agent === 1 ? holder.id : randomUUID();
    const update: Parameters<typeof upsertHost>[2] = { id, name, agent: true, firstAt: now, lastAt: now };
    if (host.os !== undefined) update.os = host.os;
    if (host.kernel !== undefined) update.kernel = host.kernel;
    if (host.addresses !== undefined) update.addresses = host.addresses;
    if (host.agentVersion !== undefined) update.agentVersion = host.agentVersion;
    if (host.cpus !== undefined) update.cpus = host.cpus;
    if (host.wattsPerCore !== undefined) update.wattsPerCore = host.wattsPerCore;
    const record = await upsertHost(trx, ctx, update);
    const token = newSecret(TOKEN_PREFIX);
    await trx
      .insertInto('tokens')
      .values({
        id: randomUUID(),
        hash: hashSecret(token),
        role: 'agent',
        name: `agent ${name}`.slice(0, 200),
        host_id: record.id,
        created_at: now,
        last_used_at: null,
        revoked_at: null,
      })
      .execute();
    return { token, host: record };
  });
}

export async function listEnrolments(ctx: StoreContext): Promise<EnrolmentRecord[]> {
  const rows = await ctx.db
    .selectFrom('enrolments')
    .select(['id', 'created_at', 'expires_at', 'uses_left', 'created_by'])
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    usesLeft: Number(r.uses_left),
    createdBy: r.created_by,
  }));
}

export async function deleteEnrolment(ctx: StoreContext, id: string): Promise<boolean> {
  const r = await ctx.db.deleteFrom('enrolments').where('id', '=', id).executeTakeFirst();
  return r.numDeletedRows > 0n;
}
