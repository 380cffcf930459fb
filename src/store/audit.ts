import type { StoreContext } from './context.ts';
import { StoreInputError } from './errors.ts';
import type { AuditEntry, Page } from './types.ts';
import {
  badCursor,
  decodeCursor,
  encodeCursor,
  isoTime,
  optionalText,
  pageLimit,
  shortText,
} from './values.ts';

/** Append-only: there is no update or delete here other than prune() by age. */
export async function appendAudit(ctx: StoreContext, e: AuditEntry): Promise<void> {
  if (
    e.detail !== undefined &&
    (typeof e.detail !== 'object' || e.detail === null || Array.isArray(e.detail))
  ) {
    throw new StoreInputError('STORE_BAD_INPUT', 'must be an object', { location: 'detail' });
  }
  const detail = e.detail === undefined ? null : JSON.stringify(e.detail);
  if (detail !== null && detail.length > 65_536) {
    throw new StoreInputError('STORE_BAD_INPUT', 'larger than 64 KiB', { location: 'detail' });
  }
  await ctx.db
    .insertInto('audit')
    .values({
      at: isoTime(e.at, 'at'),
      actor: shortText(e.actor, 'actor', 200),
      action: shortText(e.action, 'action', 200),
      target: optionalText(e.target, 'target', 1024),
      outcome: shortText(e.outcome, 'outcome', 200),
      detail,
    })
    .execute();
}

/** Newest first (by `at`, then by insertion); the cursor is the last entry's (at, insertion number). */
export async function listAudit(
  ctx: StoreContext,
  q: { limit?: number; cursor?: string },
): Promise<Page<AuditEntry>> {
  const limit = pageLimit(q.limit, 100, 500);
  let query = ctx.db.selectFrom('audit').selectAll();
  if (q.cursor !== undefined) {
    const c = decodeCursor(q.cursor);
    if (typeof c !== 'object' || c === null) throw badCursor();
    const { a, s } = c as Record<string, unknown>;
    if (typeof a !== 'string' || typeof s !== 'number' || !Number.isSafeInteger(s)) throw badCursor();
    query = query.where((eb) => eb.or([eb('at', '<', a), eb.and([eb('at', '=', a), eb('seq', '<', s)])]));
  }
  const rows = await query
    .orderBy('at', 'desc')
    .orderBy('seq', 'desc')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map((r) => {
      const e: AuditEntry = { at: r.at, actor: r.actor, action: r.action, outcome: r.outcome };
      if (r.target !== null) e.target = r.target;
      if (r.detail !== null) e.detail = JSON.parse(r.detail) as Record<string, unknown>;
      return e;
    }),
    next: rows.length > limit && last ? encodeCursor({ a: last.at, s: last.seq }) : null,
  };
}
