/**
 * The scan cache (scan-cache.ts) must never hide a change that matters:
 * another program under the same pid (exec, pid reuse, a rename), a socket
 * opened since the last scan, a persistence file rewritten in place. The
 * first tests drive the collector over a /proc tree built in a temporary
 * folder, where each of those can be made to happen exactly; the last ones
 * use real processes and the real /proc.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { collectHostSnapshot } from './collect.ts';
import { ScanCache } from './scan-cache.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

const TCP_HEADER =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';

/** A /proc/PID/net/tcp line: 10.0.2.15:41394 → 192.168.51.100:3333, ESTABLISHED. */
function tcpLine(n: number, inode: number, localPort = 0xa1b2 + n): string {
  const port = localPort.toString(16).toUpperCase().padStart(4, '0');
  return `   ${n}: 0F02000A:${port} 6433A8C0:0D05 01 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 20 4 30 10 -1\n`;
}

interface FakeProcess {
  pid: number;
  comm: string;
  argv: string[];
  exe: string;
  startTicks: number;
  /** Field 48 (argv start) of stat: moves on exec. */
  argStart?: number;
  sockets?: number[];
}

/** A /proc in a folder: what collect.ts reads, and nothing else. */
class FakeProc {
  readonly root = tempDir('deminer-fake-proc-');
  readonly fsRoot = tempDir('deminer-fake-fs-');
  #opens = 100;
  tcp: string[] = [];

  constructor() {
    writeFileSync(join(this.root, 'stat'), 'cpu  1 2 3 4\nbtime 1700000000\n');
    mkdirSync(join(this.root, 'self', 'ns'), { recursive: true });
    symlinkSync('net:[4026531840]', join(this.root, 'self', 'ns', 'net'));
  }

  put(p: FakeProcess): void {
    const dir = join(this.root, String(p.pid));
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, 'ns'), { recursive: true });
    mkdirSync(join(dir, 'fd'));
    mkdirSync(join(dir, 'net'));
    const fields = Array.from({ length: 50 }, () => '0');
    // fields[i] is field i + 3 of stat.
    fields[0] = 'S';
    fields[1] = '1'; // ppid
    fields[17] = '1'; // threads
    fields[19] = String(p.startTicks);
    fields[21] = '100'; // rss pages
    fields[45] = String(p.argStart ?? 140000000000000);
    fields[46] = String((p.argStart ?? 140000000000000) + 40);
    writeFileSync(join(dir, 'stat'), `${p.pid} (${p.comm}) ${fields.join(' ')}\n`);
    writeFileSync(join(dir, 'cmdline'), `${p.argv.join('\0')}\0`);
    writeFileSync(join(dir, 'status'), `Name:\t${p.comm}\nUid:\t1000\t1000\t1000\t1000\n`);
    writeFileSync(join(dir, 'cgroup'), '0::/user.slice\n');
    symlinkSync(p.exe, join(dir, 'exe'));
    symlinkSync('/', join(dir, 'cwd'));
    symlinkSync('net:[4026531840]', join(dir, 'ns', 'net'));
    for (const [i, inode] of (p.sockets ?? []).entries())
      symlinkSync(`socket:[${inode}]`, join(dir, 'fd', String(i + 3)));
    this.writeNet();
  }

  addSocket(pid: number, fd: number, inode: number): void {
    symlinkSync(`socket:[${inode}]`, join(this.root, String(pid), 'fd', String(fd)));
  }

  setCmdline(pid: number, argv: string[]): void {
    writeFileSync(join(this.root, String(pid), 'cmdline'), `${argv.join('\0')}\0`);
  }

  remove(pid: number): void {
    rmSync(join(this.root, String(pid)), { recursive: true, force: true });
  }

  /** The TCP tables of every process's namespace, and counters that move when `opened` says so. */
  writeNet(opened = false): void {
    if (opened) this.#opens++;
    for (const name of this.pids()) {
      const net = join(this.root, name, 'net');
      writeFileSync(join(net, 'tcp'), TCP_HEADER + this.tcp.join(''));
      writeFileSync(join(net, 'tcp6'), TCP_HEADER);
      writeFileSync(join(net, 'udp'), TCP_HEADER);
      writeFileSync(join(net, 'udp6'), TCP_HEADER);
      writeFileSync(
        join(net, 'snmp'),
        `Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs\nTcp: 1 200 120000 -1 ${this.#opens} 5 0 0 ${this.tcp.length} 1000\n`,
      );
      writeFileSync(
        join(net, 'sockstat'),
        `sockets: used 10\nTCP: inuse ${this.tcp.length} orphan 0 tw 0 alloc 1 mem 1\n`,
      );
      writeFileSync(join(net, 'sockstat6'), 'TCP6: inuse 0\n');
    }
  }

  pids(): string[] {
    return ['100', '200', '300'].filter((p) => {
      try {
        readlinkSync(join(this.root, p, 'exe'));
        return true;
      } catch {
        return false;
      }
    });
  }

  scan(cache: ScanCache) {
    return collectHostSnapshot({
      procRoot: this.root,
      fsRoot: this.fsRoot,
      windowMs: 0,
      hash: 'none',
      cache,
    });
  }
}

function proc(snapshot: Awaited<ReturnType<FakeProc['scan']>>, pid: number) {
  const p = snapshot.processes.find((x) => x.pid === pid);
  assert.ok(p, `pid ${pid} in the snapshot`);
  return p;
}

const sleeper: FakeProcess = {
  pid: 100,
  comm: 'sleep',
  argv: ['sleep', '600'],
  exe: '/usr/bin/sleep',
  startTicks: 5000,
};

describe('scan cache over a fake /proc', () => {
  test('an unchanged process is taken from the cache after its second read; dead pids leave it', async () => {
    const f = new FakeProc();
    f.put(sleeper);
    const cache = new ScanCache();
    assert.deepEqual(proc(await f.scan(cache), 100).argv, ['sleep', '600']);
    assert.equal(cache.stats().processesRead, 1);
    // A process seen for the first time is read in full once more.
    await f.scan(cache);
    assert.equal(cache.stats().processesRead, 1);
    // Now only stat and the links are read: a command line rewritten in place shows at the next refresh.
    f.setCmdline(100, ['sleep', '700']);
    assert.deepEqual(proc(await f.scan(cache), 100).argv, ['sleep', '600']);
    assert.deepEqual(cache.stats().processesReused, 1);
    assert.equal(cache.stats().fdWalks, 0);
    const refreshing = new ScanCache({ refreshMs: 0 });
    await f.scan(refreshing);
    f.setCmdline(100, ['sleep', '800']);
    assert.deepEqual(proc(await f.scan(refreshing), 100).argv, ['sleep', '800']);

    f.remove(100);
    f.put({ ...sleeper, pid: 200 });
    await f.scan(cache);
    assert.deepEqual([...cache.processes.keys()], [200], 'the dead pid was dropped');
  });

  for (const [what, change] of [
    ['pid reuse (another start time)', { startTicks: 9000 }],
    ['exec of another program (another executable)', { exe: '/tmp/.x/xmrig', comm: 'sleep' }],
    ['exec of the same program (argv moved)', { argStart: 140000000009999 }],
    ['a rename (prctl PR_SET_NAME)', { comm: 'kworker/0:1' }],
  ] as const) {
    test(`${what} reads the process again`, async () => {
      const f = new FakeProc();
      f.put(sleeper);
      const cache = new ScanCache();
      await f.scan(cache);
      await f.scan(cache);
      await f.scan(cache);
      assert.equal(cache.stats().processesReused, 1);
      f.put({ ...sleeper, ...change, argv: ['xmrig', '-o', 'pool.example:3333'] });
      const p = proc(await f.scan(cache), 100);
      assert.equal(cache.stats().processesRead, 1);
      assert.deepEqual(p.argv, ['xmrig', '-o', 'pool.example:3333']);
      assert.equal(p.exe, change.exe ?? sleeper.exe);
    });
  }

  test('a socket opened since the last scan is found, and its table is read again', async () => {
    const f = new FakeProc();
    f.tcp = [tcpLine(0, 5001)];
    f.put({ ...sleeper, sockets: [5001] });
    f.put({ ...sleeper, pid: 200, startTicks: 6000 });
    const cache = new ScanCache();
    let s = await f.scan(cache);
    assert.equal(s.sockets.find((x) => x.inode === '5001')?.pid, 100);
    await f.scan(cache);
    s = await f.scan(cache);
    assert.equal(cache.stats().fdWalks, 0, 'nothing new: no fd is read');
    assert.equal(cache.stats().tablesReused, 1);
    assert.equal(s.sockets.find((x) => x.inode === '5001')?.pid, 100);

    // Pid 200 connects: a new inode in its fds and in the table, and ActiveOpens moves.
    f.addSocket(200, 3, 5002);
    f.tcp.push(tcpLine(1, 5002));
    f.writeNet(true);
    s = await f.scan(cache);
    assert.equal(cache.stats().tablesRead, 1);
    assert.equal(s.sockets.find((x) => x.inode === '5002')?.pid, 200);
    assert.equal(s.sockets.find((x) => x.inode === '5001')?.pid, 100);
    assert.ok(cache.stats().fdWalks <= 2, `walked ${cache.stats().fdWalks} fd folders`);
  });

  test('unchanged TCP counters keep the parsed tables, for at most tableMaxAgeMs', async () => {
    const f = new FakeProc();
    f.put(sleeper);
    const cache = new ScanCache();
    await f.scan(cache);
    // Written behind the counters' back (no real kernel does this): not seen while they hold.
    f.tcp = [tcpLine(0, 7001)];
    for (const name of f.pids()) writeFileSync(join(f.root, name, 'net', 'tcp'), TCP_HEADER + f.tcp.join(''));
    assert.equal((await f.scan(cache)).sockets.length, 0);
    assert.equal((await f.scan(new ScanCache({ tableMaxAgeMs: 0 }))).sockets.length, 1);
    const aged = new ScanCache({ tableMaxAgeMs: 0 });
    await f.scan(aged);
    assert.equal((await f.scan(aged)).sockets.length, 1);
    assert.equal(aged.stats().tablesRead, 1);
  });

  test('a socket no process holds is searched for once, not on every scan', async () => {
    const f = new FakeProc();
    f.tcp = [tcpLine(0, 9999)];
    f.put(sleeper);
    f.put({ ...sleeper, pid: 200, startTicks: 6000 });
    const cache = new ScanCache({ refreshMs: 200 });
    await f.scan(cache);
    await f.scan(cache);
    const s = await f.scan(cache);
    assert.equal(s.sockets[0]?.pid, undefined);
    assert.equal(cache.stats().fdWalks, 0);
    assert.equal(cache.stats().unattributed, 1);
    // Handed to a process later (SCM_RIGHTS): found when that process is read again in full.
    f.addSocket(200, 3, 9999);
    await new Promise((r) => setTimeout(r, 450));
    assert.equal((await f.scan(cache)).sockets[0]?.pid, 200);
  });
});

describe('scan cache: persistence files', () => {
  test('a file rewritten in place is read again, even with its mtime set back', async () => {
    const root = tempDir('deminer-cache-files-');
    mkdirSync(join(root, 'etc'));
    const crontab = join(root, 'etc', 'crontab');
    writeFileSync(crontab, '0 * * * * root /usr/bin/true\n');
    const old = new Date(Date.now() - 86_400_000);
    utimesSync(crontab, old, old);
    const cache = new ScanCache({ racyMs: 0 });
    const scan = () => collectHostSnapshot({ windowMs: 0, live: false, fsRoot: root, cache });
    const text = async () => (await scan()).files.find((x) => x.path === '/etc/crontab')?.text;
    assert.equal(await text(), '0 * * * * root /usr/bin/true\n');
    assert.equal(await text(), '0 * * * * root /usr/bin/true\n');
    assert.ok(cache.stats().filesReused >= 1, 'unchanged: taken from the cache');
    assert.equal(cache.stats().filesRead, 0);
    await new Promise((r) => setTimeout(r, 30));
    // Same length, same inode, the mtime put back where it was: only ctime tells.
    writeFileSync(crontab, '0 * * * * root /tmp/.x/xmrig\n');
    utimesSync(crontab, old, old);
    assert.equal(await text(), '0 * * * * root /tmp/.x/xmrig\n');
    // A file changed a moment ago is not kept (a second write in the same timestamp tick would not show).
    const strict = new ScanCache();
    const again = () => collectHostSnapshot({ windowMs: 0, live: false, fsRoot: root, cache: strict });
    await again();
    await again();
    assert.equal(strict.files.has(crontab), false);
    unlinkSync(crontab);
    assert.equal(await text(), undefined);
    assert.equal(cache.files.has(crontab), false, 'a file gone leaves the cache');
  });
});

describe('scan cache over the real /proc', { skip: process.platform !== 'linux' }, () => {
  const children: ChildProcess[] = [];
  after(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  /** Polls /proc/PID until `ok` says yes. */
  async function waitFor(pid: number, ok: (exe: string, argv: string) => boolean, what: string) {
    const end = Date.now() + 5000;
    for (;;) {
      let exe = '';
      let argv = '';
      try {
        exe = readlinkSync(`/proc/${pid}/exe`);
        argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        // Between exec's steps: try again.
      }
      if (ok(exe, argv)) return;
      assert.ok(Date.now() < end, what);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async function execsOnInput(script: string, until: (exe: string, argv: string) => boolean) {
    const child = spawn('/bin/sh', ['-c', script], { stdio: ['pipe', 'ignore', 'ignore'] });
    children.push(child);
    const pid = child.pid!;
    // Until its exec, the child shows node's own command line.
    await waitFor(pid, (_, argv) => argv.startsWith('/bin/sh\u0000'), 'the child did not start');
    const cache = new ScanCache();
    const scan = async () => {
      const s = await collectHostSnapshot({ windowMs: 0, hash: 'none', cache });
      return s.processes.find((p) => p.pid === pid);
    };
    const first = await scan();
    await scan();
    assert.ok(first, 'the child is in the snapshot');
    child.stdin!.write('go\n');
    await waitFor(pid, until, 'the child did not exec');
    return { first, after: await scan() };
  }

  test('a process that execs another binary under the same pid is read again', async () => {
    // Wait for the whole exec: the executable link changes before the new argv is in place.
    const { first, after: now } = await execsOnInput(
      'read l; exec sleep 600',
      (exe, argv) => exe.endsWith('/sleep') && argv === 'sleep\u0000600\u0000',
    );
    assert.equal(first.argv[0], '/bin/sh');
    assert.deepEqual(now?.argv, ['sleep', '600']);
    assert.ok(now?.exe?.endsWith('/sleep'), now?.exe);
  });

  test('a process that execs its own binary again (new argv) is read again', async () => {
    const { first, after: now } = await execsOnInput('read l; exec /bin/sh -c "read m"', (_, argv) =>
      argv.includes('read m'),
    );
    assert.equal(first.argv.at(-1), 'read l; exec /bin/sh -c "read m"');
    assert.deepEqual(now?.argv, ['/bin/sh', '-c', 'read m']);
    assert.equal(now?.exe, first.exe);
  });
});
