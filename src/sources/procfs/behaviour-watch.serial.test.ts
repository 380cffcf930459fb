/**
 * The agent's behaviour watch on real processes of this machine: a busy
 * shell loop is watched and gets a series, a sleeping process is not read,
 * a process gone or idle for longer than the linger leaves, and the table
 * never holds more than its bound.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HostSnapshot } from '../../core/host-snapshot.ts';
import { scanHost } from '../../pipeline/scan.ts';
import { BehaviourWatch } from './behaviour-watch.ts';

const children: ChildProcess[] = [];
function start(script: string): ChildProcess {
  const c = spawn('sh', ['-c', script], { stdio: 'ignore' });
  children.push(c);
  return c;
}
after(() => {
  for (const c of children) c.kill('SIGKILL');
});

const scan = (watch: BehaviourWatch) =>
  scanHost({ windowMs: 1000, fsRoot: '/', hash: 'none', context: {}, behaviour: false, watch });

function proc(s: HostSnapshot, pid: number) {
  return s.processes.find((p) => p.pid === pid);
}

describe('behaviour watch (real processes)', { skip: process.platform !== 'linux' && 'needs /proc' }, () => {
  test('a busy process is sampled once a second and gets a series; a sleeping one is never read', async () => {
    // `exec` so the pid is the loop's own, not a shell waiting for it.
    const busy = start('exec sh -c "while :; do :; done"');
    const idle = start('exec sleep 600');
    await sleep(300);
    const watch = new BehaviourWatch({ periodMs: 50, minSeriesMs: 500 });
    const first = await scan(watch);
    assert.ok(proc(first.snapshot, busy.pid!)!.cpuCores > 0.5, 'the loop is busy in the scan window');
    assert.ok(watch.watched().includes(busy.pid!), 'the busy loop is watched');
    assert.ok(!watch.watched().includes(idle.pid!), 'the sleeping process is not');
    assert.ok(!watch.watched().includes(process.pid), 'never the agent itself');
    watch.sample();
    const early = await scan(watch);
    assert.equal(proc(early.snapshot, busy.pid!)!.behaviour, undefined, 'not before minSeriesMs');
    for (let i = 0; i < 12; i++) {
      watch.sample();
      await sleep(50);
    }
    const second = await scan(watch);
    const series = proc(second.snapshot, busy.pid!)!.behaviour;
    assert.ok(series, 'the busy loop carries its series into the snapshot');
    assert.ok(series.t.length >= 12, `${series.t.length} samples`);
    const ticks = series.utime.at(-1)! + series.stime.at(-1)! - series.utime[0]! - series.stime[0]!;
    assert.ok(ticks > 0, 'its CPU time moved while it was sampled');
    assert.equal(proc(second.snapshot, idle.pid!)!.behaviour, undefined);
    // A package's binary is not hashed by the scan; its series carries the hash for the baseline.
    const loop = proc(second.snapshot, busy.pid!)!;
    if (loop.packaged === true) {
      const want = createHash('sha256')
        .update(readFileSync(`/proc/${busy.pid}/exe`))
        .digest('hex');
      assert.equal(series.exeSha256, want);
    } else process.stdout.write(`# ${loop.exe} is not package-owned here: no hash expected\n`);
  });

  test('a process that exits or stays idle past the linger leaves; the table is bounded', async () => {
    const a = start('exec sh -c "while :; do :; done"');
    const b = start('exec sh -c "while :; do :; done"');
    await sleep(300);
    // The scan sees the whole host (the test runner may be busy too); the table is judged on the two loops.
    const whole = (await scan(new BehaviourWatch())).snapshot;
    const s: HostSnapshot = {
      ...whole,
      processes: whole.processes.filter((p) => p.pid === a.pid || p.pid === b.pid),
    };
    assert.equal(s.processes.length, 2);
    const watch = new BehaviourWatch({ maxWatched: 1, lingerMs: 1000 });
    watch.observe(s);
    assert.equal(watch.watched().length, 1, 'at most maxWatched');
    const kept = watch.watched()[0]!;
    assert.ok([a.pid, b.pid].includes(kept));
    // The kept one goes idle (stopped): it stays through the linger, then leaves.
    process.kill(kept, 'SIGSTOP');
    const asIdle: HostSnapshot = {
      ...s,
      processes: s.processes.map((p) => (p.pid === kept ? { ...p, cpuCores: 0 } : p)),
    };
    const now = Date.now();
    watch.observe(asIdle, now + 500);
    assert.ok(watch.watched().includes(kept), 'idle for less than the linger: still watched');
    watch.observe(asIdle, now + 5000);
    assert.ok(!watch.watched().includes(kept), 'idle past the linger: no longer watched');
    process.kill(kept, 'SIGCONT');
    // Gone from the process table: leaves at once, and the other busy one takes the place.
    watch.observe(s, now + 6000);
    const back = watch.watched();
    assert.equal(back.length, 1);
    const without: HostSnapshot = { ...s, processes: s.processes.filter((p) => p.pid !== back[0]) };
    watch.observe(without, now + 7000);
    const expected = back[0] === a.pid ? b.pid : a.pid;
    assert.deepEqual(watch.watched(), [expected]);
  });
});
