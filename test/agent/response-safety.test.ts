/**
 * What the agent refuses to do even when a task asks (src/agent/forensics.ts,
 * src/agent/eradicate.ts), on real processes of this machine: a config path
 * on the attacker's command line is collected only when it is a miner config
 * (a JSON object), never the host file it names; a program under a system
 * folder is copied into quarantine but left in place.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { eradicate } from '../../src/agent/eradicate.ts';
import { type Artifact, collect } from '../../src/agent/forensics.ts';

const reason = process.platform === 'linux' ? undefined : 'reads /proc: Linux only';
const dir = mkdtempSync(join(tmpdir(), 'deminer-resp-safety-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function started(cmd: string, args: string[], cwd: string): Promise<number> {
  const c = spawn(cmd, args, { cwd, stdio: 'ignore' });
  children.push(c);
  await sleep(200);
  assert.ok(c.pid && c.exitCode === null, `${cmd} runs`);
  return c.pid;
}

test(
  'a config the command line names is taken only when it is a miner config (a JSON object)',
  { skip: reason },
  async () => {
    const cwd = mkdtempSync(join(dir, 'cwd-'));
    writeFileSync(join(cwd, 'config.json'), '{"pools":[{"url":"pool.example:3333","user":"x"}]}\n');
    // sh's own -c names a command, the second -c a host file the "miner" points at.
    const pid = await started('sh', ['-c', 'sleep 60', 'miner', '-c', '/etc/passwd'], cwd);
    const sent: Artifact[] = [];
    const r = await collect(
      { targets: [{ pid }], persistence: [], include: ['config'], memory_max_bytes: 0 },
      {
        scratch: join(dir, 'scratch'),
        upload: async (a) => {
          sent.push(a);
          return { id: `ev_${sent.length}`, sha256: a.sha256 };
        },
      },
    );
    assert.deepEqual(
      sent.map((a) => a.name),
      [`${cwd}/config.json`],
      'config.json of its working directory, not /etc/passwd',
    );
    const refused = r.steps.find((s) => s.step === 'config' && !s.ok);
    assert.match(refused?.detail ?? '', /\/etc\/passwd: not a JSON object, not collected/);
  },
);

test(
  'a program under a system folder is copied into quarantine, never removed',
  { skip: reason },
  async () => {
    const pid = await started('sleep', ['60'], dir);
    const exe = readlinkSync(`/proc/${pid}/exe`);
    const [step] = await eradicate(
      { targets: [{ pid }], persistence: [], steps: ['quarantine'] },
      { quarantine: join(dir, 'quarantine') },
    );
    assert.equal(step?.step, 'quarantine');
    assert.equal(step?.ok, false);
    assert.equal(step?.verified, false);
    assert.match(step?.detail ?? '', /system folder/);
    assert.ok(existsSync(exe), `${exe} is still there`);
    assert.ok(step?.saved_to && existsSync(step.saved_to), 'the copy is kept as evidence');
  },
);
