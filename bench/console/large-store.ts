/**
 * The console's reads on a large fleet: a SQLite store with 10,000 hosts
 * and 1,000,000 findings spread over 30 days (about 40 rules, every
 * severity, a tenth acknowledged, host CPU samples), written through the
 * store's own ingest (so the overview's counters are what a server keeps),
 * then the real server on it, timing what the console asks for: the
 * overview (24h, 7d, 30d), host pages (first and a later one, each sort),
 * finding pages with and without filters, and the rule list. Prints the
 * median (p50) of `--runs` requests each, after one warm-up, beside the
 * reference in the same run: the same counts by a scan of the findings
 * table, which is what the counters and index reads replace.
 *
 *   node --import tsx bench/console/large-store.ts [--data DIR [--reuse]] [--hosts 10000] [--findings 1000000] [--runs 5]
 *
 * Without --data the store goes in a temporary folder, removed afterwards;
 * with it, the folder is kept and printed, and `--reuse` starts from it
 * again without seeding. The browser benchmark of the console starts a
 * server on the same folder: `await seedLargeStore(dir)` seeds it, or
 * reuses it when it was seeded before (about three minutes the first time,
 * seconds after), then `startServer({ dataDir: dir, ... })`.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { type Finding, makeFinding } from '../../src/core/finding.ts';
import { SEVERITIES, type Severity, severityRank } from '../../src/core/severity.ts';
import { builtinDetectors, ruleCatalog } from '../../src/detect/catalog.ts';
import { startServer } from '../../src/server/index.ts';
import { openSqliteStore, SQLITE_FILE } from '../../src/store/sqlite.ts';

export interface SeedOptions {
  hosts?: number;
  findings?: number;
  days?: number;
  /**
   * A folder seeded before (its marker file is there) is reused: only host
   * times and CPU samples are brought up to now. Default true; false
   * refuses a folder that already holds a store.
   */
  reuse?: boolean;
  log?: (line: string) => void;
}

export interface SeedResult {
  dir: string;
  hosts: number;
  findings: number;
  /** Seconds the seeding took (0 when reused). */
  seconds: number;
  reused: boolean;
}

/** Written last: a folder without it was not seeded to the end. */
const MARKER = 'large-store.json';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A small deterministic generator (mulberry32): the same store from the same options. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function hostName(i: number): string {
  return `host-${String(i).padStart(5, '0')}.corp.example`;
}

/**
 * Seeds `dir` (created if missing) with the large store, through the
 * store's ingest in batches of 1,000, grouped five to a transaction; then
 * acknowledges a tenth of the findings through the store too, sets host
 * times (70 % reporting, 10 % stale, the rest offline, as of now) and adds
 * 30 CPU samples per reporting host. With `reuse` and a seeded folder, only
 * the host times and their CPU samples are brought up to now.
 */
export async function seedLargeStore(dir: string, opts: SeedOptions = {}): Promise<SeedResult> {
  const hosts = opts.hosts ?? 10_000;
  const total = opts.findings ?? 1_000_000;
  const days = opts.days ?? 30;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const marker = join(dir, MARKER);
  const reused = opts.reuse !== false && existsSync(marker);
  if (!reused && existsSync(join(dir, SQLITE_FILE)))
    throw new Error(`${dir} already holds a store: give --reuse, or an empty folder`);
  const store = await openSqliteStore(dir);
  const started = performance.now();
  try {
    // A big page cache while seeding: the findings indexes are far larger than the default 2 MB.
    await sql`pragma cache_size = -1048576`.execute(store.db);
    // Seeding is one long load: checkpoint rarely and skip the fsyncs (a crash means seeding again).
    await sql`pragma synchronous = off`.execute(store.db);
    await sql`pragma wal_autocheckpoint = 65536`.execute(store.db);
    if (!reused) {
      const rules = ruleCatalog(builtinDetectors()).slice(0, 40);
      const rnd = prng(1);
      const now = Date.now();
      const pad = 'x'.repeat(420);
      const batch = (b: number, size: number): Finding[] =>
        Array.from({ length: size }, (_, i) => {
          const k = b * 1000 + i;
          const rule = rules[k % rules.length]!;
          const lo = severityRank(rule.severity.min);
          const hi = severityRank(rule.severity.max);
          // Every severity in the range, lower ones more often.
          const rank = lo + Math.floor(rnd() ** 1.6 * (hi - lo + 1));
          const severity: Severity = SEVERITIES[Math.min(hi, rank) - 1]!;
          const host = hostName(Math.floor(rnd() * hosts));
          // In arrival order, as a fleet sends them (the time indexes then grow at their end), a minute of jitter.
          const at = new Date(
            Math.min(now, now - days * DAY + (k / total) * days * DAY + (rnd() - 0.5) * 60_000),
          ).toISOString();
          return makeFinding({
            rule: { id: rule.id, name: rule.name, ruleset: rule.ruleset },
            severity,
            techniques: rule.techniques,
            host,
            subject: [`subject-${k}`],
            timestamp: at,
            message: `${rule.name}: /tmp/.cache/kworker-${k % 997} talks to pool-${k % 53}.example:3333; stop it and look for its persistence.`,
            process: {
              pid: 1000 + (k % 30_000),
              name: `kworker-${k % 997}`,
              executable: `/tmp/.cache/kworker-${k % 997}`,
              command_line: `/tmp/.cache/kworker-${k % 997} -o stratum+tcp://pool-${k % 53}.example:3333 -u 4${'A'.repeat(60)} --cpu-max-threads-hint 25`,
            },
            destination: { ip: `203.0.113.${k % 250}`, port: 3333, domain: `pool-${k % 53}.example` },
            evidence: { cpu_percent: 24.5, window_s: 600, samples: 60, note: pad },
          });
        });
      const batches = Math.ceil(total / 1000);
      let done = 0;
      let lastLog = performance.now();
      // A few batches in flight: the store's queue writes the waiting ones together (5,000 a transaction).
      const inFlight = 10;
      let next = 0;
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          for (;;) {
            const b = next++;
            if (b >= batches) return;
            const size = Math.min(1000, total - b * 1000);
            const items = batch(b, size);
            await store.ingestFindings(items, { actor: 'bench', at: new Date().toISOString() });
            // A tenth acknowledged, through the store (the open counters follow).
            const ack = items.filter((_, i) => (b * 1000 + i) % 10 === 3).map((f) => f.fingerprint);
            await store.acknowledge(ack, 'bench', new Date().toISOString());
            done += size;
            if (performance.now() - lastLog > 10_000) {
              lastLog = performance.now();
              const s = (performance.now() - started) / 1000;
              log(`seeding: ${done.toLocaleString('en')} findings in ${s.toFixed(0)} s`);
            }
          }
        }),
      );
    }
    // Host times as of now (and agents for the reporting ones), and their recent CPU.
    const now = Date.now();
    const db = store.db;
    await db.transaction().execute(async (trx) => {
      await trx.updateTable('hosts').set({ agent: 0 }).execute();
      for (let i = 0; i < hosts; i++) {
        const r = i % 10;
        const at = r < 7 ? now - (i % 50) * 100 : r === 7 ? now - 3 * 60_000 : now - (2 + (i % 20)) * DAY;
        await trx
          .updateTable('hosts')
          .set({ last_seen: new Date(at).toISOString(), agent: r < 8 ? 1 : 0 })
          .where('name', '=', hostName(i))
          .execute();
      }
    });
    const ids = await db.selectFrom('hosts').select(['id', 'name', 'last_seen']).execute();
    const recent = ids.filter((h) => Date.parse(h.last_seen) > now - 60_000);
    await db.deleteFrom('metrics').execute();
    const rnd = prng(2);
    for (let i = 0; i < recent.length; i += 150) {
      const samples = recent.slice(i, i + 150).flatMap((h) =>
        Array.from({ length: 30 }, (_, k) => ({
          hostId: h.id,
          at: new Date(now - (30 - k) * 10_000).toISOString(),
          subject: 'host',
          cpu: Math.round(rnd() * (h.name.endsWith('7.corp.example') ? 400 : 60) * 10) / 10,
        })),
      );
      await store.addMetrics(samples);
    }
    const count = await db
      .selectFrom('findings')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const seconds = reused ? 0 : (performance.now() - started) / 1000;
    if (!reused) {
      writeFileSync(
        marker,
        `${JSON.stringify({ hosts, findings: Number(count.n), days, seeded_at: new Date().toISOString(), seconds })}\n`,
      );
    }
    return { dir, hosts: ids.length, findings: Number(count.n), seconds, reused };
  } finally {
    await store.close();
  }
}

// ---- the benchmark ------------------------------------------------------------------

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function timeGet(
  url: string,
  token: string,
  runs: number,
): Promise<{ p50: number; min: number; max: number; bytes: number; status: number }> {
  const once = async () => {
    const t = performance.now();
    const r = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    const body = await r.arrayBuffer();
    return { ms: performance.now() - t, bytes: body.byteLength, status: r.status };
  };
  await once();
  const times: number[] = [];
  let last = { ms: 0, bytes: 0, status: 0 };
  for (let i = 0; i < runs; i++) {
    last = await once();
    times.push(last.ms);
  }
  return {
    p50: median(times),
    min: Math.min(...times),
    max: Math.max(...times),
    bytes: last.bytes,
    status: last.status,
  };
}

function timeSql(db: Database.Database, text: string, runs: number, ...params: unknown[]): number {
  const s = db.prepare(text);
  s.all(...params);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    s.all(...params);
    times.push(performance.now() - t);
  }
  return median(times);
}

async function main(): Promise<void> {
  const given = arg('--data');
  const dir = given ?? mkdtempSync(join(tmpdir(), 'deminer-large-'));
  const runs = Number(arg('--runs') ?? 5);
  const hosts = Number(arg('--hosts') ?? 10_000);
  const findings = Number(arg('--findings') ?? 1_000_000);
  try {
    const seeded = await seedLargeStore(dir, { hosts, findings, reuse: process.argv.includes('--reuse') });
    if (seeded.reused && (seeded.findings !== findings || seeded.hosts !== hosts))
      console.log(`note: the reused store has its own size, not --hosts/--findings`);
    console.log(
      seeded.reused
        ? `store: ${dir} (reused): ${seeded.hosts.toLocaleString('en')} hosts, ${seeded.findings.toLocaleString('en')} findings`
        : `store: ${dir}: ${seeded.hosts.toLocaleString('en')} hosts, ${seeded.findings.toLocaleString('en')} findings seeded through the ingest in ${seeded.seconds.toFixed(0)} s (${Math.round(seeded.findings / seeded.seconds).toLocaleString('en')} findings/s)`,
    );
    const server = await startServer({
      host: '127.0.0.1',
      port: 0,
      dataDir: dir,
      retention: {},
      intelStateDir: null,
      version: 'bench',
    });
    const rows: [string, Awaited<ReturnType<typeof timeGet>>][] = [];
    try {
      const { token } = await server.store.createToken({ role: 'viewer', name: 'bench' });
      const api = `${server.url}/api/v1`;
      const get = async (label: string, path: string) => {
        rows.push([label, await timeGet(`${api}${path}`, token, runs)]);
      };
      await get('GET /overview?range=24h', '/overview?range=24h');
      await get('GET /overview?range=7d', '/overview?range=7d');
      await get('GET /overview?range=30d', '/overview?range=30d');
      await get('GET /rules', '/rules');
      await get('GET /hosts?limit=50', '/hosts?limit=50');
      // A later page: the cursor after the first half of the hosts.
      let cursor: string | null = null;
      let skipped = 0;
      while (skipped + 500 <= Math.floor(hosts / 2)) {
        const r: Response = await fetch(
          `${api}/hosts?limit=500${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
          { headers: { authorization: `Bearer ${token}` } },
        );
        const page = (await r.json()) as { next: string | null };
        if (page.next === null) break;
        cursor = page.next;
        skipped += 500;
      }
      if (cursor !== null)
        await get(
          `GET /hosts?limit=50 (after ${skipped.toLocaleString('en')} hosts)`,
          `/hosts?limit=50&cursor=${encodeURIComponent(cursor)}`,
        );
      await get('GET /hosts?limit=50&sort=open&order=desc', '/hosts?limit=50&sort=open&order=desc');
      await get('GET /hosts?limit=50&sort=last_seen&order=desc', '/hosts?limit=50&sort=last_seen&order=desc');
      await get('GET /hosts?limit=50&sort=status', '/hosts?limit=50&sort=status');
      await get('GET /findings?limit=50', '/findings?limit=50');
      await get('GET /findings?limit=50&severity=critical', '/findings?limit=50&severity=critical');
      await get(
        'GET /findings?limit=50&severity=high,critical&acknowledged=false',
        '/findings?limit=50&severity=high,critical&acknowledged=false',
      );
      await get(
        `GET /findings?limit=50&host=${hostName(Math.floor(hosts * 0.4242))}`,
        `/findings?limit=50&host=${hostName(Math.floor(hosts * 0.4242))}`,
      );
      const rule = ruleCatalog(builtinDetectors())[3]!.id;
      await get(`GET /findings?limit=50&rule=${rule}`, `/findings?limit=50&rule=${encodeURIComponent(rule)}`);
      await get('GET /findings?limit=50&technique=T1496', '/findings?limit=50&technique=T1496');
      await get('GET /findings?limit=50&text=pool-7.', '/findings?limit=50&text=pool-7.');
    } finally {
      await server.close();
    }
    // The reference: what the overview's counts cost as plain scans of the findings table.
    const db = new Database(join(dir, SQLITE_FILE), { readonly: true });
    const since7 = new Date(Date.now() - 7 * DAY).toISOString();
    const ref: [string, number][] = [];
    try {
      ref.push([
        'scan: open findings by severity',
        timeSql(db, 'select severity, count(*) from findings where acknowledged = 0 group by severity', 3),
      ]);
      ref.push([
        'scan: findings per rule last seen in 7d',
        timeSql(
          db,
          'select rule_id, count(*) from findings not indexed where last_seen >= ? group by rule_id',
          3,
          since7,
        ),
      ]);
    } finally {
      db.close();
    }

    const w = Math.max(...rows.map(([l]) => l.length), ...ref.map(([l]) => l.length));
    console.log(
      `\n${'request'.padEnd(w)}  ${'p50 ms'.padStart(8)}  ${'min'.padStart(7)}  ${'max'.padStart(7)}  ${'bytes'.padStart(8)}`,
    );
    for (const [label, t] of rows) {
      const flag = t.status === 200 ? '' : `  (HTTP ${t.status})`;
      console.log(
        `${label.padEnd(w)}  ${t.p50.toFixed(1).padStart(8)}  ${t.min.toFixed(1).padStart(7)}  ${t.max.toFixed(1).padStart(7)}  ${String(t.bytes).padStart(8)}${flag}`,
      );
    }
    console.log(`\nreference, the same counts by scanning the findings table (median of 3):`);
    for (const [label, ms] of ref) console.log(`${label.padEnd(w)}  ${ms.toFixed(1).padStart(8)}`);
    if (given) console.log(`\nthe store stays in ${dir} (--data ${dir} --reuse to run again)`);
  } finally {
    if (!given) rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
