import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BehaviourSampler, cpuStatPaths, fieldAfter, parseSchedstat, parseStatSample } from './sampler.ts';

const STAT =
  '4242 (a) b) c) R 1 4242 4242 0 -1 4194304 1500 0 3 0 700 25 0 0 20 5 3 0 12345 104857600 2560 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0';

describe('parsers', () => {
  test('stat: the name may hold spaces and parentheses; fields after the last one', () => {
    const s = parseStatSample(STAT)!;
    assert.equal(s.state, 'R');
    assert.equal(s.minflt, 1500);
    assert.equal(s.majflt, 3);
    assert.equal(s.utime, 700);
    assert.equal(s.stime, 25);
    assert.equal(s.nice, 5);
    assert.equal(s.threads, 3);
    assert.equal(s.startTicks, 12345);
    assert.equal(s.rssPages, 2560);
    assert.equal(parseStatSample('garbage'), undefined);
    assert.equal(parseStatSample('1 (x) R 1 2'), undefined);
  });

  test('status and io fields; a missing or hostile value reads as 0', () => {
    const status = 'Name:\tx\nvoluntary_ctxt_switches:\t341\nnonvoluntary_ctxt_switches:\t12\n';
    assert.equal(fieldAfter(status, '\nvoluntary_ctxt_switches:'), 341);
    assert.equal(fieldAfter(status, '\nnonvoluntary_ctxt_switches:'), 12);
    assert.equal(fieldAfter(status, '\nmissing:'), 0);
    assert.equal(fieldAfter('rchar: -5\n', 'rchar:'), 0);
    assert.equal(fieldAfter('rchar: 1e999\n', 'rchar:'), 0);
    const io = 'rchar: 10\nwchar: 20\nread_bytes: 30\nwrite_bytes: 40\ncancelled_write_bytes: 50\n';
    assert.equal(fieldAfter(io, '\nwrite_bytes:'), 40);
    assert.deepEqual(parseSchedstat('100 200 3\n'), { runNs: 100, waitNs: 200 });
    assert.deepEqual(parseSchedstat('x'), { runNs: 0, waitNs: 0 });
  });

  test('cgroup: v2 unified path, v1 cpu controller, root and traversal refused', () => {
    assert.deepEqual(cpuStatPaths('0::/system.slice/x.service\n', '/sys/fs/cgroup'), [
      '/sys/fs/cgroup/system.slice/x.service/cpu.stat',
      '/sys/fs/cgroup/unified/system.slice/x.service/cpu.stat',
    ]);
    assert.deepEqual(cpuStatPaths('3:cpu,cpuacct:/job\n0::/\n', '/cg'), [
      '/cg/cpu,cpuacct/job/cpu.stat',
      '/cg/cpu/job/cpu.stat',
    ]);
    assert.deepEqual(cpuStatPaths('0::/\n1:cpu:/\n', '/cg'), []);
    assert.deepEqual(cpuStatPaths('0::/../../etc\n', '/cg'), []);
  });
});

describe('a fake /proc shaped by an attacker', () => {
  test('bounded: table size, samples per series, no hang on junk', () => {
    const root = mkdtempSync(join(tmpdir(), 'deminer-sampler-'));
    try {
      for (let pid = 1; pid <= 50; pid++) {
        mkdirSync(join(root, String(pid)));
        // Pids above 10 burn CPU between samples; the rest are idle.
        writeFileSync(join(root, String(pid), 'stat'), STAT.replace('4242 (', `${pid} (`));
        writeFileSync(join(root, String(pid), 'io'), 'rchar: 1\n'.repeat(5000));
        writeFileSync(join(root, String(pid), 'cgroup'), `0::/${'a/'.repeat(10_000)}\n`);
      }
      mkdirSync(join(root, 'self'));
      const s = new BehaviourSampler({
        procRoot: root,
        cgroupRoot: join(root, 'cg'),
        maxProcesses: 20,
        maxSamples: 5,
      });
      for (let i = 0; i < 8; i++) s.sample(i * 1000);
      assert.equal(s.size, 20, 'never more series than the cap');
      assert.ok(s.skipped > 0, 'the rest are counted as skipped');
      const lengths = s.pids().map((p) => s.seriesOf(p)!.t.length);
      assert.ok(Math.max(...lengths) <= 5, `never more samples than the cap: ${lengths}`);
      // Idle series that filled up make room for processes not tracked yet.
      assert.ok(
        s.pids().some((p) => p > 20),
        'waiting processes get in once idle ones are dropped',
      );
      const series = s.seriesOf(s.pids()[0]!)!;
      assert.equal(series.rchar.at(-1), 1);
      assert.equal(series.nice, 5);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('real processes', { skip: process.platform !== 'linux' ? 'reads /proc: Linux only' : false }, () => {
  test('a busy process gains CPU ticks and few voluntary switches; a stopped one is seen stopped', async () => {
    const busy = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
    const idle = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const exits: number[] = [];
      const s = new BehaviourSampler({ onExit: (pid) => exits.push(pid) });
      const pids = [busy.pid!, idle.pid!];
      await sleep(300);
      for (let i = 0; i < 4; i++) {
        s.sample(i * 400, pids);
        await sleep(400);
      }
      process.kill(busy.pid!, 'SIGSTOP');
      await sleep(100);
      s.sample(2000, pids);
      const b = s.seriesOf(busy.pid!)!;
      const iS = s.seriesOf(idle.pid!)!;
      assert.equal(b.t.length, 5);
      assert.ok(b.utime.at(-1)! > b.utime[0]!, `busy process used CPU: ${b.utime.join(',')}`);
      assert.ok(b.threads.at(-1)! >= 1 && b.rssPages.at(-1)! > 0);
      assert.ok(b.runNs.at(-1)! > b.runNs[0]!, 'schedstat run time grows');
      assert.equal(b.stopped.at(-1), 1, 'SIGSTOP shows as stopped');
      assert.equal(b.stopped[0], 0);
      assert.equal(iS.utime.at(-1), iS.utime[0], 'sleep uses no CPU');
      for (const col of [b.utime, b.minflt, b.vcsw, b.nvcsw, b.rchar]) {
        for (let i = 1; i < col.length; i++)
          assert.ok(col[i]! >= col[i - 1]!, 'counters never step back here');
      }
      idle.kill('SIGKILL');
      await sleep(200);
      s.sample(2500, pids);
      assert.ok(exits.includes(idle.pid!), 'an exited process hands over its series');
      assert.equal(s.seriesOf(idle.pid!), undefined);
    } finally {
      busy.kill('SIGKILL');
      idle.kill('SIGKILL');
    }
  });
});
