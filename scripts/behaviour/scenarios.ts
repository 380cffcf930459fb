/**
 * The workloads the behaviour model is trained and evaluated on: real
 * programs on a real host, sampled by the project's own sampler
 * (record.ts). Benign workloads are grouped by `workload` (a model is never
 * scored on a workload it was trained on); miners by `capping` (nor on a
 * capping method it was trained on).
 */

export type Label = 'benign' | 'miner';
/** `selfduty`: the program throttles itself (busy, then sleeps, within each period). */
export type Capping = 'none' | 'hint' | 'nice' | 'cgroup' | 'stopcont' | 'selfduty';

export interface Scenario {
  name: string;
  label: Label;
  workload: string;
  capping: Capping;
  /** Share of one core the cap aims at (cgroup quota or stop/continue duty), 1 = uncapped. */
  level: number;
  seconds: number;
  /** Shell command run as the workload (its process tree is labelled); `$MINER`, `$POOL`, `$WORK`, `$REPO` are set. */
  command: string;
  /** Processes outside the tree that belong to the workload (a server under load), by `comm` prefix. */
  alsoNames?: string[];
  /** cgroup CPU quota for the workload tree, as a share of one core. */
  cgroupQuota?: number;
  /** SIGSTOP/SIGCONT duty cycle applied to the tree's processes named `dutyName`. */
  duty?: { name: string; share: number; periodMs: number };
  /** Set-up and tear-down commands (not sampled as the workload). */
  setup?: string;
  teardown?: string;
}

const WALLET =
  '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A';
/** XMRig pointed at the loopback pool only; light RandomX mode keeps it to ~256 MiB on a small host. */
const XMRIG = `"$MINER" -o "127.0.0.1:$POOL" -u ${WALLET} -p x --randomx-mode=light --no-color --donate-level=1`;

const loop = (cmd: string) => `while true; do ${cmd}; done`;

/** Headless Chromium as the console tests run it (Debian's build; never a downloaded one). */
const CHROMIUM = `chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync --user-data-dir="$WORK/chromium-profile" --window-size=1366,768 --virtual-time-budget=4000 --screenshot="$WORK/shot.png" "file://$WORK/page.html" >/dev/null 2>&1`;

/** The project's miner simulator (test/sim/miner-sim.c), built into the work folder under an ordinary name. */
const SIM_SETUP = 'cc -O2 -o "$WORK/kthreadd-helper" "$REPO/test/sim/miner-sim.c"';
const sim = (duty: number) =>
  `SIM_POOL="127.0.0.1:$POOL" SIM_WALLET=${WALLET} SIM_DUTY=${duty} SIM_SECONDS=600 exec "$WORK/kthreadd-helper"`;

export const SCENARIOS: readonly Scenario[] = [
  // ---- benign
  {
    name: 'tsc',
    label: 'benign',
    workload: 'tsc',
    capping: 'none',
    level: 1,
    seconds: 90,
    command: `cd "$REPO" && ${loop('node_modules/.bin/tsc --noEmit -p . >/dev/null 2>&1')}`,
  },
  {
    name: 'gcc',
    label: 'benign',
    workload: 'gcc',
    capping: 'none',
    level: 1,
    seconds: 90,
    command: loop('gcc -O2 -c -o "$WORK/big.o" "$WORK/big.c"'),
  },
  {
    name: 'pgbench',
    label: 'benign',
    workload: 'postgres-pgbench',
    capping: 'none',
    level: 1,
    seconds: 90,
    setup:
      'psql -q -h 127.0.0.1 -U postgres -d test -c "DROP DATABASE IF EXISTS deminer_bhv" -c "CREATE DATABASE deminer_bhv" && pgbench -q -i -s 4 -h 127.0.0.1 -U postgres deminer_bhv >/dev/null 2>&1',
    command: 'pgbench -c 4 -j 2 -T 600 -h 127.0.0.1 -U postgres deminer_bhv >/dev/null 2>&1',
    alsoNames: ['postgres'],
    teardown: 'psql -q -h 127.0.0.1 -U postgres -d test -c "DROP DATABASE IF EXISTS deminer_bhv"',
  },
  {
    name: 'redis-benchmark',
    label: 'benign',
    workload: 'redis-benchmark',
    capping: 'none',
    level: 1,
    seconds: 90,
    command: loop('redis-benchmark -q -n 200000 -c 20 -P 4 -t set,get,lpush,incr >/dev/null 2>&1'),
    alsoNames: ['redis-server'],
  },
  {
    name: 'compress',
    label: 'benign',
    workload: 'compress',
    capping: 'none',
    level: 1,
    seconds: 90,
    command: `${loop('gzip -6 -c "$WORK/blob" >/dev/null')} & ${loop('sha256sum "$WORK/blob" >/dev/null')} & wait`,
  },
  {
    name: 'xz-nice',
    label: 'benign',
    workload: 'compress',
    capping: 'nice',
    level: 1,
    seconds: 90,
    command: `nice -n 19 sh -c '${loop('xz -6 -T1 -c "$WORK/blob" >/dev/null')}'`,
  },
  {
    name: 'xz-cgroup-30',
    label: 'benign',
    workload: 'compress',
    capping: 'cgroup',
    level: 0.3,
    cgroupQuota: 0.3,
    seconds: 90,
    command: loop('xz -6 -T1 -c "$WORK/blob" >/dev/null'),
  },
  {
    name: 'gzip-stopcont-40',
    label: 'benign',
    workload: 'compress',
    capping: 'stopcont',
    level: 0.4,
    duty: { name: 'gzip', share: 0.4, periodMs: 200 },
    seconds: 90,
    command: loop('gzip -9 -c "$WORK/blob" >/dev/null'),
  },
  {
    name: 'node-tests',
    label: 'benign',
    workload: 'node-tests',
    capping: 'none',
    level: 1,
    seconds: 90,
    command: `cd "$REPO" && ${loop('node --import tsx --test src/core/*.test.ts src/sources/procfs/proc-parse.test.ts >/dev/null 2>&1')}`,
  },
  {
    name: 'gcc-cgroup-20',
    label: 'benign',
    workload: 'gcc',
    capping: 'cgroup',
    level: 0.2,
    cgroupQuota: 0.2,
    seconds: 90,
    command: loop('gcc -O2 -c -o "$WORK/big.o" "$WORK/big.c"'),
  },
  // ---- miners: the real XMRig 6.16.0, under an ordinary name, capped the ways attackers cap it
  {
    name: 'xmrig-hint-50',
    label: 'miner',
    workload: 'xmrig',
    capping: 'hint',
    level: 1,
    seconds: 90,
    command: `exec ${XMRIG} --cpu-max-threads-hint=50`,
  },
  {
    name: 'xmrig-nice',
    label: 'miner',
    workload: 'xmrig',
    capping: 'nice',
    level: 1,
    seconds: 90,
    command: `exec nice -n 19 ${XMRIG} -t 1`,
  },
  {
    name: 'xmrig-cgroup-20',
    label: 'miner',
    workload: 'xmrig',
    capping: 'cgroup',
    level: 0.2,
    cgroupQuota: 0.2,
    seconds: 90,
    command: `exec ${XMRIG} -t 1`,
  },
  {
    name: 'xmrig-cgroup-50',
    label: 'miner',
    workload: 'xmrig',
    capping: 'cgroup',
    level: 0.5,
    cgroupQuota: 0.5,
    seconds: 90,
    command: `exec ${XMRIG} -t 2`,
  },
  {
    name: 'xmrig-cgroup-10',
    label: 'miner',
    workload: 'xmrig',
    capping: 'cgroup',
    level: 0.1,
    cgroupQuota: 0.1,
    seconds: 90,
    command: `exec ${XMRIG} -t 1`,
  },
  {
    name: 'xmrig-stopcont-30',
    label: 'miner',
    workload: 'xmrig',
    capping: 'stopcont',
    level: 0.3,
    duty: { name: '', share: 0.3, periodMs: 200 },
    seconds: 90,
    command: `exec ${XMRIG} -t 1`,
  },
  {
    name: 'xmrig-stopcont-60',
    label: 'miner',
    workload: 'xmrig',
    capping: 'stopcont',
    level: 0.6,
    duty: { name: '', share: 0.6, periodMs: 500 },
    seconds: 90,
    command: `exec ${XMRIG} -t 2`,
  },
  {
    name: 'xmrig-hint-25-nice',
    label: 'miner',
    workload: 'xmrig',
    capping: 'hint',
    level: 0.5,
    seconds: 90,
    command: `exec nice -n 10 ${XMRIG} --cpu-max-threads-hint=25`,
  },
  {
    name: 'xmrig-cgroup-30',
    label: 'miner',
    workload: 'xmrig',
    capping: 'cgroup',
    level: 0.3,
    cgroupQuota: 0.3,
    seconds: 120,
    command: `exec ${XMRIG} -t 1`,
  },
  {
    name: 'xmrig-cgroup-75',
    label: 'miner',
    workload: 'xmrig',
    capping: 'cgroup',
    level: 0.75,
    cgroupQuota: 0.75,
    seconds: 120,
    command: `exec ${XMRIG} -t 2`,
  },
  {
    name: 'xmrig-nice-cgroup-40',
    label: 'miner',
    workload: 'xmrig',
    capping: 'cgroup',
    level: 0.4,
    cgroupQuota: 0.4,
    seconds: 120,
    command: `exec nice -n 19 ${XMRIG} -t 1`,
  },
  {
    name: 'xmrig-stopcont-15',
    label: 'miner',
    workload: 'xmrig',
    capping: 'stopcont',
    level: 0.15,
    duty: { name: '', share: 0.15, periodMs: 100 },
    seconds: 120,
    command: `exec ${XMRIG} -t 1`,
  },
  {
    name: 'xmrig-stopcont-45',
    label: 'miner',
    workload: 'xmrig',
    capping: 'stopcont',
    level: 0.45,
    duty: { name: '', share: 0.45, periodMs: 1000 },
    seconds: 120,
    command: `exec ${XMRIG} -t 2`,
  },
  {
    name: 'xmrig-hint-100',
    label: 'miner',
    workload: 'xmrig',
    capping: 'hint',
    level: 1,
    seconds: 120,
    command: `exec ${XMRIG} --cpu-max-threads-hint=100`,
  },
  // Pure computation with no I/O: the hardest benign case for a behaviour model.
  {
    name: 'openssl-speed-nice',
    label: 'benign',
    workload: 'compute',
    capping: 'nice',
    level: 1,
    seconds: 120,
    command: `nice -n 19 sh -c '${loop('openssl speed -seconds 20 sha256 aes-128-cbc >/dev/null 2>&1')}'`,
  },
  {
    name: 'python-compute-cgroup-30',
    label: 'benign',
    workload: 'compute',
    capping: 'cgroup',
    level: 0.3,
    cgroupQuota: 0.3,
    seconds: 120,
    command: `exec /usr/bin/python3 -c 'import hashlib\nh=b"x"\nwhile True: h=hashlib.sha256(h*64).digest()'`,
  },
  // ---- second pass: more compute-bound benign work (the hard cases), more miners and cappings
  {
    name: 'chromium-render',
    label: 'benign',
    workload: 'chromium',
    capping: 'none',
    level: 1,
    seconds: 90,
    command: loop(CHROMIUM),
  },
  {
    name: 'chromium-render-cgroup-30',
    label: 'benign',
    workload: 'chromium',
    capping: 'cgroup',
    level: 0.3,
    cgroupQuota: 0.3,
    seconds: 90,
    command: loop(CHROMIUM),
  },
  {
    name: 'sha256-stopcont-25',
    label: 'benign',
    workload: 'hashing',
    capping: 'stopcont',
    level: 0.25,
    duty: { name: 'sha256sum', share: 0.25, periodMs: 300 },
    seconds: 90,
    // Sixteen passes over the blob per process: long-lived enough to be sampled for a minute under the duty cycle.
    command: loop(`sha256sum ${Array(16).fill('"$WORK/blob"').join(' ')} >/dev/null`),
  },
  {
    name: 'sqlite-query',
    label: 'benign',
    workload: 'sqlite',
    capping: 'none',
    level: 1,
    seconds: 90,
    command: loop(
      `sqlite3 :memory: "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<200000000) SELECT count(*), sum(x*x%7) FROM c;" >/dev/null`,
    ),
  },
  // A password-hashing service capped by its cgroup: steady user-space hashing, the closest benign look-alike.
  {
    name: 'node-pbkdf2-cgroup-20',
    label: 'benign',
    workload: 'password-hashing',
    capping: 'cgroup',
    level: 0.2,
    cgroupQuota: 0.2,
    seconds: 90,
    command: `exec node -e 'const c=require("node:crypto");for(;;)c.pbkdf2Sync("pw","salt",100000,64,"sha512")'`,
  },
  {
    name: 'minersim-duty-20',
    label: 'miner',
    workload: 'miner-sim',
    capping: 'selfduty',
    level: 0.2,
    seconds: 90,
    setup: SIM_SETUP,
    command: sim(0.2),
  },
  {
    name: 'minersim-duty-50',
    label: 'miner',
    workload: 'miner-sim',
    capping: 'selfduty',
    level: 0.5,
    seconds: 90,
    setup: SIM_SETUP,
    command: sim(0.5),
  },
  {
    name: 'xmrig-stopcont-25-slow',
    label: 'miner',
    workload: 'xmrig',
    capping: 'stopcont',
    level: 0.25,
    duty: { name: '', share: 0.25, periodMs: 2000 },
    seconds: 90,
    command: `exec ${XMRIG} -t 1`,
  },
];
