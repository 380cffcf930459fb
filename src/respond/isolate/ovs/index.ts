import { UsageError } from '../../../core/errors.ts';
import { ActionError } from '../errors.ts';
import { shown } from '../target.ts';
import {
  type ExecStep,
  type IsolationBackend,
  type IsolationTarget,
  type RuleCheck,
  type StepRunner,
  withStatus,
} from '../types.ts';

/**
 * Open vSwitch directly, for sites without a controller: drop flows on a
 * named bridge with `ovs-ofctl`, read back with `dump-flows` (see README.md).
 */
export interface OvsOptions {
  bridge: string;
  /** OpenFlow priority of the drop flows: above any forwarding flow. */
  priority?: number;
  /** Send the flows as one OpenFlow bundle (all or none); needs OpenFlow 1.4 on the bridge, OVS's default. */
  bundle?: boolean;
  /** The program (tests and unusual installs); looked up on PATH. */
  ofctl?: string;
}

/** "dmnr": marks deminer's flows, so dumps and deletes touch ours and nobody else's. */
export const DEMINER_COOKIE = 0x646d6e72;
export const DEFAULT_PRIORITY = 65000;

/** A bridge name, never an option (`-…`) or another connection method (`tcp:…`, `unix:…`). */
export function checkBridge(name: string): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(name))
    throw new UsageError('ISOLATE_BAD_BRIDGE', `--bridge must be a bridge name (got ${shown(name)})`, {
      location: '--bridge',
    });
  return name;
}

/** The match of each drop flow, as ovs-ofctl prints it back. */
export function ovsMatches(t: IsolationTarget): string[] {
  const out =
    t.family === 4
      ? [`ip,nw_src=${t.ip}`, `ip,nw_dst=${t.ip}`, `arp,arp_spa=${t.ip}`, `arp,arp_tpa=${t.ip}`]
      : [`ipv6,ipv6_src=${t.ip}`, `ipv6,ipv6_dst=${t.ip}`];
  if (t.mac) out.push(`dl_src=${t.mac}`, `dl_dst=${t.mac}`);
  if (t.port) out.push(`in_port=${t.port}`);
  return out;
}

function fieldSet(s: string): string {
  return s
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean)
    .sort()
    .join(',');
}

/**
 * Our flows in `ovs-ofctl --no-stats --no-names dump-flows` output: lines like
 * ` cookie=0x646d6e72, priority=65000,ip,nw_src=192.0.2.10 actions=drop`.
 */
export function parseDump(
  text: string,
  cookie: number,
  priority: number,
): { match: string; actions: string }[] {
  const out: { match: string; actions: string }[] = [];
  const want = `cookie=0x${cookie.toString(16)}`;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line.startsWith('cookie=')) continue;
    const parts = line.split(', ');
    if (parts[0] !== want) continue;
    const rest = parts.slice(1).join(', ');
    if (/(^|,\s*)table=(?!0\b)/.test(rest)) continue;
    const at = rest.lastIndexOf(' actions=');
    if (at < 0) continue;
    const fields = rest
      .slice(0, at)
      .split(',')
      .filter((f) => !f.startsWith('table='));
    if (!fields.includes(`priority=${priority}`)) continue;
    out.push({
      match: fieldSet(fields.filter((f) => !f.startsWith('priority=')).join(',')),
      actions: rest.slice(at + ' actions='.length).trim(),
    });
  }
  return out;
}

export function ovsBackend(opts: OvsOptions): IsolationBackend {
  const bridge = checkBridge(opts.bridge);
  const priority = opts.priority ?? DEFAULT_PRIORITY;
  const ofctl = opts.ofctl ?? 'ovs-ofctl';
  const cookieHex = `0x${DEMINER_COOKIE.toString(16)}`;
  const bundle = opts.bundle === false ? [] : ['--bundle'];

  const readStep = (): ExecStep => ({
    kind: 'exec',
    purpose: 'read',
    argv: [ofctl, '--no-stats', '--no-names', 'dump-flows', bridge, `cookie=${cookieHex}/-1`],
  });
  const addStep = (t: IsolationTarget): ExecStep => ({
    kind: 'exec',
    purpose: 'apply',
    argv: [ofctl, ...bundle, 'add-flow', bridge, '-'],
    stdin: ovsMatches(t)
      .map((m) => `cookie=${cookieHex},priority=${priority},${m},actions=drop\n`)
      .join(''),
  });
  const delStep = (t: IsolationTarget): ExecStep => ({
    kind: 'exec',
    purpose: 'release',
    argv: [ofctl, ...bundle, '--strict', 'del-flows', bridge, '-'],
    stdin: ovsMatches(t)
      .map((m) => `cookie=${cookieHex}/-1,priority=${priority},${m}\n`)
      .join(''),
  });

  function failed(what: string, answer: { exitCode?: number; stderr?: string }): ActionError {
    const err = (answer.stderr ?? '').trim().split('\n')[0] ?? '';
    const missing = /is not a bridge|No such file or directory/.test(err);
    const down = /database connection failed|Connection refused|connection failed/i.test(err);
    const noBundle = /bundle/i.test(err) && bundle.length > 0;
    return new ActionError(
      missing ? 'OVS_NO_BRIDGE' : down ? 'OVS_UNAVAILABLE' : 'OVS_FAILED',
      `${ofctl} ${what} on ${bridge} exited ${answer.exitCode}: ${err || 'no message'}${
        noBundle ? ' (the bridge may not allow OpenFlow 1.4 bundles: try --no-bundle)' : ''
      }`,
      { retryable: down },
    );
  }

  async function verify(t: IsolationTarget, io: StepRunner): Promise<RuleCheck> {
    const step = readStep();
    const answer = await io.exec(step);
    if (answer.exitCode !== 0) throw failed('dump-flows', answer);
    const flows = parseDump(answer.body ?? '', DEMINER_COOKIE, priority);
    const expected = ovsMatches(t);
    const present = expected.filter((m) =>
      flows.some((f) => f.match === fieldSet(m) && f.actions === 'drop'),
    );
    return {
      expected: expected.map((m) => `${m} drop`),
      present: present.map((m) => `${m} drop`),
      detail: `${present.length} of ${expected.length} drop flows (cookie ${cookieHex}, priority ${priority}) on ${bridge} per ovs-ofctl dump-flows`,
    };
  }

  return withStatus({
    name: 'ovs',
    settleMs: 1000,
    plan(action, t) {
      return [readStep(), action === 'isolate' ? addStep(t) : delStep(t), readStep()];
    },
    async apply(t, io) {
      const step = addStep(t);
      const answer = await io.exec(step);
      if (answer.exitCode !== 0) throw failed('add-flow', answer);
    },
    verify,
    async release(t, io) {
      const step = delStep(t);
      const answer = await io.exec(step);
      if (answer.exitCode !== 0) throw failed('del-flows', answer);
    },
  });
}
