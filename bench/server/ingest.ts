/**
 * Ingest throughput of `deminer serve`: a bounded loopback load generator
 * (several simulated sensors, each posting batches one after the other with
 * its own idempotency keys) against a real server in a process of its own
 * (the bundle, `dist/deminer.mjs`, as users run it; `npm run build` first),
 * on SQLite, then on PostgreSQL when it is reachable. Prints findings/s and
 * the p50/p99 latency of one batch, at full load and at half of that rate,
 * and the server's CPU time per 1,000 findings.
 *
 * The request bodies are built before the clock starts, so that the
 * generator spends its time sending; it still shares the machine's cores
 * with the server, which the figures include.
 *
 *   node --import tsx bench/server/ingest.ts [--clients 8] [--batch 200] [--seconds 10] [--only sqlite|postgres] [--runner FILE]
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeFinding } from '../../src/core/finding.ts';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const only = (() => {
  const i = process.argv.indexOf('--only');
  return i >= 0 ? process.argv[i + 1] : undefined;
})();
const CLIENTS = arg('--clients', 8);
const BATCH = arg('--batch', 200);
const SECONDS = arg('--seconds', 10);
/** Distinct bodies per client; reused in turn (as agents re-send) past that. */
const BODIES = arg('--bodies', 150);
const BUNDLE = fileURLToPath(new URL('../../dist/deminer.mjs', import.meta.url));
/** `--runner FILE`: another build's bench/run-bundle.mjs (a worktree of the previous main, say) for a before/after run. */
const RUN = (() => {
  const i = process.argv.indexOf('--runner');
  return i >= 0 ? process.argv[i + 1]! : fileURLToPath(new URL('../run-bundle.mjs', import.meta.url));
})();

function batchOf(client: number, n: number): string {
  const items = [];
  for (let i = 0; i < BATCH; i++) {
    const k = n * BATCH + i;
    items.push(
      makeFinding({
        rule: { id: 'deminer.network.pool_domain', name: 'Mining pool name looked up', ruleset: 'builtin' },
        severity: 'high',
        techniques: ['T1496'],
        // A fleet: 500 hosts, each seen with many pools; a third of the findings repeat (de-duplicated).
        host: `host-${(client * 7919 + k) % 500}`,
        subject: [`pool-${k % Math.max(1, Math.floor(BATCH * 2))}.example`],
        timestamp: new Date(Date.now() - 60_000).toISOString(),
        message: 'pool lookup',
        evidence: { observations: 1 },
      }),
    );
  }
  return JSON.stringify({ items });
}

const bodies: string[][] = Array.from({ length: CLIENTS }, (_, c) =>
  Array.from({ length: BODIES }, (_, n) => batchOf(c, n)),
);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
}

async function load(
  url: string,
  token: string,
  ratePerClient: number | undefined,
): Promise<{ rate: number; p50: number; p99: number; errors: number }> {
  const latencies: number[] = [];
  let findings = 0;
  let errors = 0;
  const end = performance.now() + SECONDS * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      let n = 0;
      while (performance.now() < end) {
        const body = bodies[c]![n % BODIES]!;
        const started = performance.now();
        const r = await fetch(`${url}/api/v1/findings`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
            'idempotency-key': `bench-${c}-${n}-${t0}`,
          },
          body,
        });
        await r.arrayBuffer();
        const took = performance.now() - started;
        latencies.push(took);
        if (r.status === 202) findings += BATCH;
        else errors++;
        n++;
        if (ratePerClient !== undefined) {
          const wait = (BATCH / ratePerClient) * 1000 - took;
          if (wait > 0) await new Promise((res) => setTimeout(res, wait));
        }
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  return { rate: findings / secs, p50: pct(latencies, 50), p99: pct(latencies, 99), errors };
}

/** CPU seconds (user + system) the process has used so far. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function startServe(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  // DEMINER_BENCH_PROFILE=DIR writes the server's CPU profile there.
  const prof = process.env['DEMINER_BENCH_PROFILE'];
  const node = prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [];
  const child = spawn(
    process.execPath,
    [...node, RUN, 'serve', '--port', '0', '--log-level', 'warn', ...args],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  const url = await new Promise<string>((ok, fail) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /serving on (http:\/\/[^\s]+)/.exec(err);
      if (m) ok(m[1]!);
    });
    child.on('exit', (code) => fail(new Error(`serve exited with ${code}: ${err}`)));
  });
  return { child, url };
}

async function run(label: string, storeArgs: string[]): Promise<void> {
  const token = execFileSync(process.execPath, [RUN, 'token', 'create', '--role', 'sensor', ...storeArgs], {
    encoding: 'utf8',
  }).trim();
  const { child, url } = await startServe(storeArgs);
  try {
    const cpu0 = cpuSeconds(child.pid!);
    const own0 = process.cpuUsage();
    const full = await load(url, token, undefined);
    const cpu1 = cpuSeconds(child.pid!);
    const own = process.cpuUsage(own0);
    const generator = ((own.user + own.system) / 1e6 / SECONDS) * 100;
    const serverShare = ((cpu1 - cpu0) / SECONDS) * 100;
    const half = await load(url, token, full.rate / 2 / CLIENTS);
    const perK = ((cpu1 - cpu0) / (full.rate * SECONDS)) * 1000 * 1000;
    console.log(
      `${label.padEnd(10)} full load: ${Math.round(full.rate).toLocaleString('en')} findings/s, batch p50 ${full.p50.toFixed(1)} ms, p99 ${full.p99.toFixed(1)} ms (${full.errors} errors); server CPU ${perK.toFixed(1)} ms per 1,000 findings (server ${serverShare.toFixed(0)} % of a core, load generator ${generator.toFixed(0)} %)`,
    );
    console.log(
      `${''.padEnd(10)} half load: ${Math.round(half.rate).toLocaleString('en')} findings/s, batch p50 ${half.p50.toFixed(1)} ms, p99 ${half.p99.toFixed(1)} ms (${half.errors} errors)`,
    );
  } finally {
    child.kill('SIGTERM');
    await new Promise((ok) => child.on('exit', ok));
  }
}

async function main(): Promise<void> {
  if (!existsSync(BUNDLE)) throw new Error('no dist/deminer.mjs: run `npm run build` first');
  console.log(`server: ${RUN}`);
  console.log(`${CLIENTS} clients, batches of ${BATCH} findings, ${SECONDS} s per load level`);
  if (only !== 'postgres') {
    const dir = mkdtempSync(join(tmpdir(), 'deminer-ingest-'));
    try {
      await run('SQLite', ['--data', dir]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (only === 'sqlite') return;
  const pg = process.env['DEMINER_TEST_DATABASE'] ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `deminer_bench_${process.pid}`;
  const { default: pgLib } = await import('pg');
  const admin = new pgLib.Client({ connectionString: pg });
  try {
    await admin.connect();
  } catch (e) {
    console.log(`PostgreSQL not reachable (${(e as Error).message}): its figures are left out`);
    return;
  }
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
    await run('PostgreSQL', ['--database', `${pg}?options=-c%20search_path%3D${schema}`]);
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
}

await main();
