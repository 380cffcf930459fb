import { type Expression, type Kysely, type RawBuilder, sql, type Transaction } from 'kysely';
import type { StoreContext } from './context.ts';
import { StoreInputError } from './errors.ts';
import { retryTransaction } from './retry.ts';
import type { Database } from './schema.ts';
import type { MetricSample } from './types.ts';
import { isoFromMs, isoTime, pageLimit, shortText, toNumber } from './values.ts';

/** The most samples one call may add. */
export const MAX_METRICS_BATCH = 5000;
/** Rows per INSERT: well under SQLite's bound-parameter limit. */
const CHUNK = 500;

function optionalNumber(v: unknown, field: string, integer = false): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (integer && !Number.isSafeInteger(v))) {
    throw new StoreInputError('STORE_BAD_INPUT', 'must be a non-negative number', { location: field });
  }
  return v;
}

/**
 * Samples are stored as sent; prune() downsamples them with age
 * (rollUpMetrics below) and removes them after the retention.
 */
export async function addMetrics(ctx: StoreContext, samples: readonly MetricSample[]): Promise<void> {
  if (samples.length > MAX_METRICS_BATCH) {
    throw new StoreInputError('STORE_BATCH_TOO_LARGE', `at most ${MAX_METRICS_BATCH} samples at once`, {
      location: 'samples',
    });
  }
  const rows = samples.map((s, i) => ({
    host_id: shortText(s.hostId, `samples[${i}].hostId`, 128),
    at: isoTime(s.at, `samples[${i}].at`),
    subject: shortText(s.subject, `samples[${i}].subject`, 1024),
    cpu: optionalNumber(s.cpu, `samples[${i}].cpu`),
    memory_bytes: optionalNumber(s.memoryBytes, `samples[${i}].memoryBytes`, true),
    connections_per_minute: optionalNumber(s.connectionsPerMinute, `samples[${i}].connectionsPerMinute`),
  }));
  if (rows.length === 0) return;
  await ctx.db.transaction().execute(async (trx) => {
    for (let i = 0; i < rows.length; i += CHUNK) {
      await trx
        .insertInto('metrics')
        .values(rows.slice(i, i + CHUNK))
        .execute();
    }
  });
}

// ---- downsampling ----------------------------------------------------------------

type Resolution = 300 | 3600;

/**
 * The start of the bucket a time falls in, as SQL both engines run the same
 * way: string surgery on the fixed-width ISO text (no date functions, which
 * differ between SQLite and PostgreSQL). Literals only, no parameters, so
 * that GROUP BY repeats the select's expression text exactly.
 */
function bucketSql(resolution: Resolution, column: string): RawBuilder<string> {
  const at = sql.ref(column);
  return resolution === 300
    ? sql<string>`substr(${at}, 1, 15) || case when substr(${at}, 16, 1) in ('0', '1', '2', '3', '4') then '0' else '5' end || ':00.000Z'`
    : sql<string>`substr(${at}, 1, 13) || ':00:00.000Z'`;
}

/** The same as bucketSql, in JavaScript, for an ISO time the store wrote. */
function bucketOf(resolution: Resolution, at: string): string {
  return resolution === 300
    ? `${at.slice(0, 15)}${at[15]! < '5' ? '0' : '5'}:00.000Z`
    : `${at.slice(0, 13)}:00:00.000Z`;
}

/** A cut rounded down to a bucket boundary: everything before it fills whole buckets. */
function bucketFloor(iso: string, resolution: Resolution): string {
  const ms = Date.parse(iso);
  return isoFromMs(ms - (((ms % (resolution * 1000)) + resolution * 1000) % (resolution * 1000)));
}

const ROLLUP_KEY = ['host_id', 'subject', 'resolution_s', 'at'] as const;
const ROLLUP_COLUMNS = [
  ...ROLLUP_KEY,
  'samples',
  'cpu_sum',
  'cpu_n',
  'cpu_max',
  'memory_sum',
  'memory_n',
  'memory_max',
  'connections_sum',
  'connections_n',
  'connections_max',
] as const;

/** `t.x + excluded.x`, where a sum that is null on one side keeps the other. */
const mergeSum = (c: string) =>
  sql<
    number | null
  >`coalesce(${sql.ref(`metric_rollups.${c}`)} + ${sql.ref(`excluded.${c}`)}, ${sql.ref(`metric_rollups.${c}`)}, ${sql.ref(`excluded.${c}`)})`;
const mergeCount = (c: string) =>
  sql<number>`${sql.ref(`metric_rollups.${c}`)} + ${sql.ref(`excluded.${c}`)}`;
/** The larger of two maxima, either of which may be null (SQLite's max(a, b) and PostgreSQL's greatest() differ on nulls). */
const mergeMax = (c: string) =>
  sql<
    number | null
  >`case when ${sql.ref(`metric_rollups.${c}`)} is null or ${sql.ref(`excluded.${c}`)} > ${sql.ref(`metric_rollups.${c}`)} then ${sql.ref(`excluded.${c}`)} else ${sql.ref(`metric_rollups.${c}`)} end`;

/**
 * Buckets written again (late samples, or a step run twice after a crash
 * between its commit and the next) merge into what is there: sums and
 * counts add up, maxima keep the larger.
 */
async function upsertBuckets(
  trx: Transaction<Database>,
  /** An aggregate select whose columns line up with ROLLUP_COLUMNS. */
  source: Expression<unknown>,
): Promise<void> {
  await trx
    .insertInto('metric_rollups')
    .columns(ROLLUP_COLUMNS)
    .expression(source)
    .onConflict((oc) =>
      oc.columns(ROLLUP_KEY).doUpdateSet({
        samples: mergeCount('samples'),
        cpu_sum: mergeSum('cpu_sum'),
        cpu_n: mergeCount('cpu_n'),
        cpu_max: mergeMax('cpu_max'),
        memory_sum: mergeSum('memory_sum'),
        memory_n: mergeCount('memory_n'),
        memory_max: mergeMax('memory_max'),
        connections_sum: mergeSum('connections_sum'),
        connections_n: mergeCount('connections_n'),
        connections_max: mergeMax('connections_max'),
      }),
    )
    .execute();
}

/**
 * One step of downsampling, in one transaction: what lies before `cut` is
 * aggregated into buckets and deleted from where it was. Either both happen
 * or neither, so a crash cannot count a sample twice, and a second run finds
 * nothing left to move. On PostgreSQL the transaction reads one snapshot
 * (repeatable read): a sample committed by an agent meanwhile is neither
 * aggregated nor deleted (the next run takes it), and a second server
 * running the same step at the same moment fails to serialize and, run
 * again, finds the work done.
 */
function rollUpStep(db: Kysely<Database>, step: 'raw' | 'fiveMinute', cut: string): Promise<number> {
  return retryTransaction(() =>
    db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute(async (trx) => {
        if (step === 'raw') {
          const bucket = bucketSql(300, 'at');
          const source = trx
            .selectFrom('metrics')
            .where('at', '<', cut)
            .select((eb) => [
              'host_id',
              'subject',
              sql.lit(300).as('resolution_s'),
              bucket.as('bucket'),
              eb.fn.countAll().as('samples'),
              eb.fn.sum('cpu').as('cpu_sum'),
              eb.fn.count('cpu').as('cpu_n'),
              eb.fn.max('cpu').as('cpu_max'),
              eb.fn.sum('memory_bytes').as('memory_sum'),
              eb.fn.count('memory_bytes').as('memory_n'),
              eb.fn.max('memory_bytes').as('memory_max'),
              eb.fn.sum('connections_per_minute').as('connections_sum'),
              eb.fn.count('connections_per_minute').as('connections_n'),
              eb.fn.max('connections_per_minute').as('connections_max'),
            ])
            .groupBy(['host_id', 'subject', bucket]);
          await upsertBuckets(trx, source);
          const r = await trx.deleteFrom('metrics').where('at', '<', cut).executeTakeFirst();
          return Number(r.numDeletedRows);
        }
        const bucket = bucketSql(3600, 'at');
        const source = trx
          .selectFrom('metric_rollups')
          .where('resolution_s', '=', 300)
          .where('at', '<', cut)
          .select((eb) => [
            'host_id',
            'subject',
            sql.lit(3600).as('resolution_s'),
            bucket.as('bucket'),
            eb.fn.sum('samples').as('samples'),
            eb.fn.sum('cpu_sum').as('cpu_sum'),
            eb.fn.sum('cpu_n').as('cpu_n'),
            eb.fn.max('cpu_max').as('cpu_max'),
            eb.fn.sum('memory_sum').as('memory_sum'),
            eb.fn.sum('memory_n').as('memory_n'),
            eb.fn.max('memory_max').as('memory_max'),
            eb.fn.sum('connections_sum').as('connections_sum'),
            eb.fn.sum('connections_n').as('connections_n'),
            eb.fn.max('connections_max').as('connections_max'),
          ])
          .groupBy(['host_id', 'subject', bucket]);
        await upsertBuckets(trx, source);
        const r = await trx
          .deleteFrom('metric_rollups')
          .where('resolution_s', '=', 300)
          .where('at', '<', cut)
          .executeTakeFirst();
        return Number(r.numDeletedRows);
      }),
  );
}

/**
 * Raw samples before `rawBefore` become 5-minute buckets; 5-minute buckets
 * before `fiveMinuteBefore` become 1-hour buckets. The cuts are rounded down
 * to whole buckets, so a bucket is never written from half its samples and
 * listMetrics() never shows a time twice. Returns how many samples and
 * 5-minute buckets were folded.
 */
export async function rollUpMetrics(
  ctx: StoreContext,
  cuts: { rawBefore?: string; fiveMinuteBefore?: string },
): Promise<{ raw: number; fiveMinute: number }> {
  const raw = cuts.rawBefore === undefined ? undefined : bucketFloor(cuts.rawBefore, 300);
  const five = cuts.fiveMinuteBefore === undefined ? undefined : bucketFloor(cuts.fiveMinuteBefore, 3600);
  const out = { raw: 0, fiveMinute: 0 };
  // Raw first: samples older than both cuts then travel on to their hour in the same pass.
  if (raw !== undefined) out.raw = await rollUpStep(ctx.db, 'raw', raw);
  if (five !== undefined) out.fiveMinute = await rollUpStep(ctx.db, 'fiveMinute', five);
  return out;
}

// ---- reading ------------------------------------------------------------------------

interface RollupRow {
  host_id: string;
  subject: string;
  resolution_s: number;
  at: string;
  samples: string | number;
  cpu_sum: number | null;
  cpu_n: string | number;
  cpu_max: number | null;
  memory_sum: number | null;
  memory_n: string | number;
  memory_max: string | number | null;
  connections_sum: number | null;
  connections_n: string | number;
  connections_max: number | null;
}

function bucketPoint(r: RollupRow): MetricSample {
  const m: MetricSample = {
    hostId: r.host_id,
    at: r.at,
    subject: r.subject,
    resolutionS: Number(r.resolution_s),
    samples: toNumber(r.samples),
  };
  const cpuN = toNumber(r.cpu_n);
  const memN = toNumber(r.memory_n);
  const connN = toNumber(r.connections_n);
  if (cpuN > 0 && r.cpu_sum !== null) m.cpu = Number(r.cpu_sum) / cpuN;
  if (r.cpu_max !== null) m.cpuMax = Number(r.cpu_max);
  // Bytes stay whole numbers, as the samples were.
  if (memN > 0 && r.memory_sum !== null) m.memoryBytes = Math.round(Number(r.memory_sum) / memN);
  if (r.memory_max !== null) m.memoryBytesMax = toNumber(r.memory_max);
  if (connN > 0 && r.connections_sum !== null) m.connectionsPerMinute = Number(r.connections_sum) / connN;
  if (r.connections_max !== null) m.connectionsPerMinuteMax = Number(r.connections_max);
  return m;
}

/**
 * The newest `limit` points (default 1000, at most 10000) in the range,
 * oldest first, each from the finest resolution that has data for its time:
 * raw samples where they are kept, else 5-minute buckets, else 1-hour
 * buckets. A bucket is in the range when its start is; a bucket is left out
 * where finer data of the same subject lies within it (a late sample not yet
 * folded in by the next prune), so no time is counted twice.
 */
export async function listMetrics(
  ctx: StoreContext,
  q: { hostId: string; subject?: string; from?: string; to?: string; limit?: number },
): Promise<MetricSample[]> {
  const limit = pageLimit(q.limit, 1000, 10_000);
  const from = q.from === undefined ? undefined : isoTime(q.from, 'from');
  const to = q.to === undefined ? undefined : isoTime(q.to, 'to');

  let rawQuery = ctx.db.selectFrom('metrics').selectAll().where('host_id', '=', q.hostId);
  if (q.subject !== undefined) rawQuery = rawQuery.where('subject', '=', q.subject);
  if (from !== undefined) rawQuery = rawQuery.where('at', '>=', from);
  if (to !== undefined) rawQuery = rawQuery.where('at', '<', to);
  const rawRows = await rawQuery.orderBy('at', 'desc').orderBy('subject', 'desc').limit(limit).execute();
  const points: MetricSample[] = rawRows.map((r) => {
    const m: MetricSample = { hostId: r.host_id, at: r.at, subject: r.subject, resolutionS: 0 };
    if (r.cpu !== null) m.cpu = r.cpu;
    if (r.memory_bytes !== null) m.memoryBytes = toNumber(r.memory_bytes);
    if (r.connections_per_minute !== null) m.connectionsPerMinute = r.connections_per_minute;
    return m;
  });

  for (const resolution of [300, 3600] as const) {
    let bq = ctx.db
      .selectFrom('metric_rollups')
      .selectAll()
      .where('host_id', '=', q.hostId)
      .where('resolution_s', '=', resolution);
    if (q.subject !== undefined) bq = bq.where('subject', '=', q.subject);
    if (from !== undefined) bq = bq.where('at', '>=', from);
    if (to !== undefined) bq = bq.where('at', '<', to);
    const rows = await bq.orderBy('at', 'desc').orderBy('subject', 'desc').limit(limit).execute();
    if (rows.length === 0) continue;
    const covered = await finerData(
      ctx,
      q.hostId,
      q.subject,
      resolution,
      rows[rows.length - 1]!.at,
      rows[0]!.at,
    );
    for (const r of rows) if (!covered.has(`${r.subject}\n${r.at}`)) points.push(bucketPoint(r));
  }

  points.sort((a, b) =>
    a.at === b.at ? (a.subject < b.subject ? 1 : a.subject > b.subject ? -1 : 0) : a.at < b.at ? 1 : -1,
  );
  return points.slice(0, limit).reverse();
}

/**
 * `subject\nbucket start` of every bucket of `resolution` between the first
 * and last bucket start given that holds finer data. In normal operation
 * the finer data begins where the coarser ends, so this reads next to
 * nothing; DISTINCT bounds it by buckets, not samples.
 */
async function finerData(
  ctx: StoreContext,
  hostId: string,
  subject: string | undefined,
  resolution: Resolution,
  firstStart: string,
  lastStart: string,
): Promise<Set<string>> {
  const end = isoFromMs(Date.parse(lastStart) + resolution * 1000);
  const bucket = bucketSql(resolution, 'at');
  let raw = ctx.db
    .selectFrom('metrics')
    .select(['subject', bucket.as('bucket')])
    .distinct()
    .where('host_id', '=', hostId)
    .where('at', '>=', firstStart)
    .where('at', '<', end);
  if (subject !== undefined) raw = raw.where('subject', '=', subject);
  const rows = await raw.execute();
  if (resolution === 3600) {
    let five = ctx.db
      .selectFrom('metric_rollups')
      .select(['subject', 'at'])
      .where('host_id', '=', hostId)
      .where('resolution_s', '=', 300)
      .where('at', '>=', firstStart)
      .where('at', '<', end);
    if (subject !== undefined) five = five.where('subject', '=', subject);
    for (const r of await five.execute()) rows.push({ subject: r.subject, bucket: bucketOf(3600, r.at) });
  }
  return new Set(rows.map((r) => `${r.subject}\n${r.bucket}`));
}

/**
 * Up to `n` of the newest host-level CPU samples (as sent, subject `host`)
 * of each host, oldest first: one index range of (host_id, subject, at) per
 * host, read newest first and stopped after `n`, all in one statement.
 */
export async function recentHostCpu(
  ctx: StoreContext,
  hostIds: readonly string[],
  n: number,
): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  const ids = [...new Set(hostIds)];
  for (const id of ids) out.set(id, []);
  const per = pageLimit(n, 30, 1000, 'n');
  for (let i = 0; i < ids.length; i += 100) {
    const parts = ids
      .slice(i, i + 100)
      .map(
        (id, k) =>
          sql`select * from (select host_id, at, cpu from metrics where host_id = ${id} and subject = 'host' and cpu is not null order by at desc limit ${per}) as ${sql.raw(`t${k}`)}`,
      );
    const rows = await sql<{
      host_id: string;
      at: string;
      cpu: number;
    }>`${sql.join(parts, sql` union all `)}`.execute(ctx.db);
    // UNION ALL promises no order: sort each host's samples by time.
    const byHost = new Map<string, { at: string; cpu: number }[]>();
    for (const r of rows.rows) {
      const list = byHost.get(r.host_id) ?? [];
      list.push({ at: r.at, cpu: Number(r.cpu) });
      byHost.set(r.host_id, list);
    }
    for (const [id, list] of byHost) {
      list.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
      out.set(
        id,
        list.map((p) => p.cpu),
      );
    }
  }
  return out;
}
