/**
 * Where a V8 CPU profile (node --cpu-prof) spent its time, leaving out the
 * first seconds (start-up, warm-up scan): self time per function and per
 * source file, and inclusive time of the functions named on the command line.
 *
 *   node --import tsx bench/agent/profile-summary.ts FILE.cpuprofile [--skip-s 20] [--top 40]
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const file = process.argv[2];
if (!file) throw new Error('usage: profile-summary.ts FILE.cpuprofile [--skip-s 20] [--top 40]');
const arg = (n: string, d: number) => {
  const i = process.argv.indexOf(n);
  return i >= 0 ? Number(process.argv[i + 1]) : d;
};
const SKIP_US = arg('--skip-s', 20) * 1e6;
const TOP = arg('--top', 40);

const prof = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const self = new Map<number, number>();
let t = 0;
let total = 0;
for (let i = 0; i < prof.samples.length; i++) {
  t += prof.timeDeltas[i]!;
  if (t < SKIP_US) continue;
  const dt = prof.timeDeltas[i + 1] ?? 0;
  self.set(prof.samples[i]!, (self.get(prof.samples[i]!) ?? 0) + dt);
  total += dt;
}
const short = (url: string) => url.replace(/^.*\/(src|node_modules|dist)\//, '$1/');
const name = (n: Node) =>
  `${n.callFrame.functionName || '(anon)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;

const selfByFn = new Map<string, number>();
const selfByFile = new Map<string, number>();
const inclusive = new Map<string, number>();
for (const [id, us] of self) {
  const n = byId.get(id)!;
  selfByFn.set(name(n), (selfByFn.get(name(n)) ?? 0) + us);
  const f = short(n.callFrame.url) || n.callFrame.functionName;
  selfByFile.set(f, (selfByFile.get(f) ?? 0) + us);
  // Inclusive: every distinct function on the stack gets the sample once.
  const onStack = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur))
    onStack.add(name(byId.get(cur)!));
  for (const s of onStack) inclusive.set(s, (inclusive.get(s) ?? 0) + us);
}
const show = (title: string, m: Map<string, number>) => {
  console.log(`\n## ${title} (of ${(total / 1000).toFixed(0)} ms after ${SKIP_US / 1e6} s)`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, TOP))
    console.log(
      `${(us / 1000).toFixed(1).padStart(9)} ms ${((us / total) * 100).toFixed(1).padStart(5)} %  ${k}`,
    );
};
show('self time by function', selfByFn);
show('self time by file', selfByFile);
show('inclusive time by function', inclusive);
