import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { mutateBytes, seededRandom } from '../../core/random.ts';
import {
  containerIdFromCgroup,
  PF_KTHREAD,
  parseCgroup,
  parseCmdline,
  parseNetTable,
  parsePasswd,
  parseStat,
  parseStatTicks,
} from './proc-parse.ts';

test('stat: names with spaces and parentheses', () => {
  const line =
    '4242 (evil (x) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 12345 1000000 512 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0';
  const s = parseStat(line)!;
  assert.equal(s.pid, 4242);
  assert.equal(s.comm, 'evil (x) name');
  assert.equal(s.ppid, 1);
  assert.equal(s.utime + s.stime, 300);
  assert.equal(s.numThreads, 3);
  assert.equal(s.startTicks, 12345);
  assert.equal(s.rssPages, 512);
  assert.equal(s.flags & PF_KTHREAD, 0);
  assert.equal(parseStat('garbage'), undefined);
  assert.equal(parseStat('1 (x) S 1 2'), undefined);
});

test('cmdline: NUL separated, empty for kernel threads', () => {
  assert.deepEqual(parseCmdline(Buffer.from('xmrig\0-o\0pool:3333\0')), ['xmrig', '-o', 'pool:3333']);
  assert.deepEqual(parseCmdline(Buffer.alloc(0)), []);
});

test('net tables: IPv4 and IPv6 in /proc byte order, states, inodes', () => {
  const v4 = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000   107        0 11129 1 0000000000000000 100 0 0 10 0
   1: 0F02000A:A1B2 6433A8C0:0D05 01 00000000:00000000 00:00000000 00000000     0        0 99999 1 0000000000000000 20 4 30 10 -1
   2: broken line`;
  const s = parseNetTable(v4, 'tcp', 4, 'net:[1]');
  assert.equal(s.length, 2);
  assert.deepEqual(
    [s[0]!.localIp, s[0]!.localPort, s[0]!.state, s[0]!.inode],
    ['127.0.0.1', 3306, 'LISTEN', '11129'],
  );
  assert.deepEqual(
    [s[1]!.localIp, s[1]!.remoteIp, s[1]!.remotePort, s[1]!.state],
    ['10.0.2.15', '192.168.51.100', 3333, 'ESTABLISHED'],
  );
  const v6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1234 1
   1: 0000000000000000FFFF00000100007F:D431 0000000000000000FFFF00000100007F:0D05 01 00000000:00000000 00:00000000 00000000     0        0 5678 1
   2: B80D0120000000000000000001000000:1F90 B80D0120000000000000000002000000:0D05 01 00000000:00000000 00:00000000 00000000     0        0 9 1`;
  const t = parseNetTable(v6, 'tcp', 6, 'net:[1]');
  assert.equal(t[0]!.localIp, '::1');
  assert.equal(t[1]!.remoteIp, '::ffff:127.0.0.1');
  assert.equal(t[1]!.remotePort, 3333);
  assert.equal(t[2]!.localIp, '2001:db8::1');
  assert.equal(t[2]!.remoteIp, '2001:db8::2');
});

test('cgroups and container ids', () => {
  const id = 'a'.repeat(64);
  assert.equal(containerIdFromCgroup(`0::/system.slice/docker-${id}.scope\n`), id);
  assert.equal(containerIdFromCgroup(`12:pids:/docker/${id}\n`), id);
  assert.equal(containerIdFromCgroup(`0::/kubepods/besteffort/pod1234/${id}\n`), id);
  assert.equal(containerIdFromCgroup('0::/user.slice/user-1000.slice\n'), undefined);
  assert.equal(parseCgroup('4:memory:/x\n0::/init.scope\n'), '/init.scope');
  assert.equal(parseCgroup('4:memory:/x\n1:cpu:/\n'), '/x');
});

test('passwd', () => {
  const m = parsePasswd(
    'root:x:0:0:root:/root:/bin/bash\nbroken\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\n',
  );
  assert.equal(m.get(0), 'root');
  assert.equal(m.get(33), 'www-data');
  assert.equal(m.size, 2);
});

/** The first parseStat (one split of the whole line): the allocation-free one must read every line the same. */
function splitParseStat(text: string) {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text.slice(close + 2).split(' ');
  const f = (n: number): number => Number(rest[n - 3]);
  if (rest.length < 22) return undefined;
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: rest[0] ?? '?',
    ppid: f(4),
    flags: f(9),
    utime: f(14),
    stime: f(15),
    numThreads: f(20),
    startTicks: f(22),
    rssPages: f(24),
    execMark: `${rest[23] ?? ''} ${rest[24] ?? ''} ${rest[25] ?? ''} ${rest[45] ?? ''} ${rest[46] ?? ''}`,
  };
}

test('stat: the field cutter reads real and mutated lines as split would', () => {
  const lines: string[] = [
    '1 (x) S 1 2',
    '1 (x)',
    '1 (x) ',
    '7 (a) b) R 1 1 1 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 99 1 2 3',
    '7 (a)  R  1 1 1 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 99 1 2 3 4 5 6\n',
  ];
  for (const pid of readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .slice(0, 200)) {
    try {
      lines.push(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      // Gone.
    }
  }
  const random = seededRandom(4242);
  const seed = lines.at(-1)!;
  for (let i = 0; i < 500; i++)
    lines.push(Buffer.from(mutateBytes(Buffer.from(seed), random)).toString('utf8'));
  for (const line of lines) {
    const want = splitParseStat(line);
    assert.deepEqual(parseStat(line), want, JSON.stringify(line));
    assert.equal(parseStatTicks(line), want ? want.utime + want.stime : undefined, JSON.stringify(line));
  }
});
