/**
 * Cost of one host collection (sampling window excluded) next to
 * `ps -eo pid,pcpu,rss,args` + `ss -tanp` gathering the same facts, in the
 * same run, on a host padded to a few hundred processes and sockets.
 *
 *   node --import tsx bench/scan/scan-bench.ts [--procs 300] [--sockets 200] [--runs 15]
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { analyzeHost } from '../../src/detect/host/registry.ts';
import { collectHostSnapshot, type HashPolicy } from '../../src/sources/procfs/collect.ts';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const PROCS = arg('--procs', 300);
const SOCKETS = arg('--sockets', 200);
const RUNS = arg('--runs', 15);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const children: ChildProcess[] = [];
  for (let i = 0; i < PROCS; i++) children.push(spawn('sleep', ['600'], { stdio: 'ignore' }));
  const server = createServer((s) => s.on('error', () => {}));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const clients: Socket[] = [];
  for (let i = 0; i < SOCKETS; i++) clients.push(connect(port, '127.0.0.1'));
  await new Promise((r) => setTimeout(r, 500));

  const ref = (): void => {
    execFileSync('ps', ['-eo', 'pid,pcpu,rss,args'], { maxBuffer: 64 << 20 });
    execFileSync('ss', ['-tanp'], { maxBuffer: 64 << 20 });
  };
  const ours = async (hash: HashPolicy, analyze: boolean) => {
    const s = await collectHostSnapshot({ windowMs: 0, hash });
    if (analyze) analyzeHost(s);
    return s;
  };
  // Warm-up: file caches, JIT, package lookups.
  ref();
  const first = await ours('suspicious', true);
  const results: Record<string, number[]> = { reference: [], ours: [], oursNoHash: [], oursAll: [] };
  for (let i = 0; i < RUNS; i++) {
    let t = performance.now();
    ref();
    results['reference']!.push(performance.now() - t);
    t = performance.now();
    await ours('suspicious', true);
    results['ours']!.push(performance.now() - t);
    t = performance.now();
    await ours('none', false);
    results['oursNoHash']!.push(performance.now() - t);
    t = performance.now();
    await ours('all', false);
    results['oursAll']!.push(performance.now() - t);
  }
  const procs = first.stats.processes;
  const sockets = first.stats.sockets;
  const ref_ = median(results['reference']!);
  const row = (name: string, ms: number) =>
    `${name.padEnd(46)} ${ms.toFixed(1).padStart(8)} ms  ${((ms * 1000) / procs).toFixed(0).padStart(6)} µs/process  ${(ref_ / ms).toFixed(2).padStart(6)}× ref speed`;
  console.log(
    `host: ${procs} processes, ${sockets} sockets, ${first.stats.netns} netns; median of ${RUNS} runs`,
  );
  console.log(row('ps -eo pid,pcpu,rss,args + ss -tanp (reference)', ref_));
  console.log(row('deminer collect+analyze (hash suspicious)', median(results['ours']!)));
  console.log(row('deminer collect only (no hashing)', median(results['oursNoHash']!)));
  console.log(row('deminer collect (hash every binary, cached)', median(results['oursAll']!)));
  // Marginal cost of a socket: the same collection with 1,000 more connections (2,000 sockets).
  const more: Socket[] = [];
  for (let i = 0; i < 1000; i++) more.push(connect(port, '127.0.0.1'));
  await new Promise((r) => setTimeout(r, 800));
  const withMore: number[] = [];
  const refMore: number[] = [];
  let moreSockets = 0;
  for (let i = 0; i < RUNS; i++) {
    let t = performance.now();
    ref();
    refMore.push(performance.now() - t);
    t = performance.now();
    moreSockets = (await ours('none', false)).stats.sockets;
    withMore.push(performance.now() - t);
  }
  const added = moreSockets - sockets;
  const perSocket = ((median(withMore) - median(results['oursNoHash']!)) * 1000) / added;
  const refPerSocket = ((median(refMore) - ref_) * 1000) / added;
  console.log(
    `marginal cost per socket (${added} sockets added): deminer ${perSocket.toFixed(1)} µs, reference ${refPerSocket.toFixed(1)} µs`,
  );
  for (const c of more) c.destroy();
  for (const c of clients) c.destroy();
  server.close();
  for (const c of children) c.kill('SIGKILL');
}

await main();
