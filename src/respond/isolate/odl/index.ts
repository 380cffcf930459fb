import { UsageError } from '../../../core/errors.ts';
import { type ControllerAuth, expectStatus, httpStep, isRecord, parseJson, send } from '../controller.ts';
import { DEFAULT_PRIORITY, DEMINER_COOKIE } from '../ovs/index.ts';
import { hostPrefix, shown } from '../target.ts';
import {
  type HttpStep,
  type IsolationBackend,
  type IsolationTarget,
  type RuleCheck,
  withStatus,
} from '../types.ts';

/**
 * OpenDaylight's OpenFlow plugin through RESTCONF: each drop flow is PUT into
 * the config datastore under an id of ours, read back from the operational
 * datastore (what the switch reported; the config one with --datastore
 * config), and DELETEd from config to release (see README.md).
 */
export interface OdlOptions {
  controller: string;
  node: string;
  auth: ControllerAuth;
  table?: number;
  priority?: number;
  /** `restconf`: the draft-bierman `/restconf/{config,operational}/…` URLs; `rfc8040`: `/rests/data/…`. */
  api?: 'restconf' | 'rfc8040';
  datastore?: 'operational' | 'config';
}

export function checkNode(text: string): string {
  if (!/^openflow:[0-9]{1,20}$/.test(text))
    throw new UsageError(
      'ISOLATE_BAD_NODE',
      `--node must be an OpenFlow node id like openflow:1 (got ${shown(text)})`,
      {
        location: '--node',
      },
    );
  return text;
}

interface OdlRule {
  id: string;
  match: Record<string, unknown>;
  text: string;
}

const ethType = (type: number) => ({ 'ethernet-match': { 'ethernet-type': { type } } });

/** The flows, each with an id derived from what it matches (stable, so PUT and DELETE are idempotent). */
export function odlRules(t: IsolationTarget, node: string): OdlRule[] {
  const a = t.ip.replaceAll(/[.:]/g, '-');
  const p = hostPrefix(t);
  const out: OdlRule[] =
    t.family === 4
      ? [
          {
            id: `deminer-ipv4-src-${a}`,
            match: { ...ethType(2048), 'ipv4-source': p },
            text: `ipv4-source=${p}`,
          },
          {
            id: `deminer-ipv4-dst-${a}`,
            match: { ...ethType(2048), 'ipv4-destination': p },
            text: `ipv4-destination=${p}`,
          },
          {
            id: `deminer-arp-spa-${a}`,
            match: { ...ethType(2054), 'arp-source-transport-address': p },
            text: `arp-source-transport-address=${p}`,
          },
          {
            id: `deminer-arp-tpa-${a}`,
            match: { ...ethType(2054), 'arp-target-transport-address': p },
            text: `arp-target-transport-address=${p}`,
          },
        ]
      : [
          {
            id: `deminer-ipv6-src-${a}`,
            match: { ...ethType(34525), 'ipv6-source': p },
            text: `ipv6-source=${p}`,
          },
          {
            id: `deminer-ipv6-dst-${a}`,
            match: { ...ethType(34525), 'ipv6-destination': p },
            text: `ipv6-destination=${p}`,
          },
        ];
  if (t.mac) {
    const m = t.mac.replaceAll(':', '-');
    out.push(
      {
        id: `deminer-eth-src-${m}`,
        match: { 'ethernet-match': { 'ethernet-source': { address: t.mac } } },
        text: `ethernet-source=${t.mac}`,
      },
      {
        id: `deminer-eth-dst-${m}`,
        match: { 'ethernet-match': { 'ethernet-destination': { address: t.mac } } },
        text: `ethernet-destination=${t.mac}`,
      },
    );
  }
  if (t.port)
    out.push({
      id: `deminer-in-port-${t.port}`,
      match: { 'in-port': `${node}:${t.port}` },
      text: `in-port=${node}:${t.port}`,
    });
  return out;
}

/** Whether the flow read back drops: an apply-actions instruction holding a drop-action (or no action at all). */
function drops(flow: Record<string, unknown>): boolean {
  const instr = isRecord(flow['instructions']) ? flow['instructions']['instruction'] : undefined;
  if (!Array.isArray(instr)) return false;
  return instr.some((i) => {
    const apply = isRecord(i) && isRecord(i['apply-actions']) ? i['apply-actions']['action'] : undefined;
    return (
      Array.isArray(apply) && (apply.length === 0 || apply.some((a) => isRecord(a) && 'drop-action' in a))
    );
  });
}

/** Compares what we sent with what came back, ignoring how numbers were written ("2048" or 2048). */
function sameMatch(sent: unknown, got: unknown): boolean {
  if (isRecord(sent)) return isRecord(got) && Object.entries(sent).every(([k, v]) => sameMatch(v, got[k]));
  return String(sent).toLowerCase() === String(got).toLowerCase();
}

export function odlBackend(opts: OdlOptions): IsolationBackend {
  const base = opts.controller;
  const node = checkNode(opts.node);
  const table = opts.table ?? 0;
  const priority = opts.priority ?? DEFAULT_PRIORITY;
  const api = opts.api ?? 'restconf';
  const datastore = opts.datastore ?? 'operational';
  const auth = opts.auth;

  const url = (store: 'config' | 'operational', id: string) =>
    api === 'restconf'
      ? `${base}/restconf/${store}/opendaylight-inventory:nodes/node/${node}/flow-node-inventory:table/${table}/flow/${encodeURIComponent(id)}`
      : `${base}/rests/data/opendaylight-inventory:nodes/node=${encodeURIComponent(node)}/flow-node-inventory:table=${table}/flow=${encodeURIComponent(id)}${
          store === 'operational' ? '?content=nonconfig' : ''
        }`;
  const readUrl = (id: string) =>
    api === 'rfc8040' && datastore === 'config' ? `${url('config', id)}?content=config` : url(datastore, id);

  const body = (t: IsolationTarget, r: OdlRule) => ({
    'flow-node-inventory:flow': [
      {
        id: r.id,
        table_id: table,
        priority,
        cookie: DEMINER_COOKIE,
        'flow-name': `deminer isolate ${t.ip}`,
        'idle-timeout': 0,
        'hard-timeout': 0,
        match: r.match,
        instructions: {
          instruction: [{ order: 0, 'apply-actions': { action: [{ order: 0, 'drop-action': {} }] } }],
        },
      },
    ],
  });
  const rules = (t: IsolationTarget) => odlRules(t, node);
  const readSteps = (t: IsolationTarget): HttpStep[] =>
    rules(t).map((r) => httpStep('read', 'GET', readUrl(r.id), auth));
  const putSteps = (t: IsolationTarget): HttpStep[] =>
    rules(t).map((r) => httpStep('apply', 'PUT', url('config', r.id), auth, body(t, r)));
  const deleteSteps = (t: IsolationTarget): HttpStep[] =>
    rules(t).map((r) => httpStep('release', 'DELETE', url('config', r.id), auth));
  const notFound = `OpenDaylight has no node ${node} or no table ${table} on it`;

  return withStatus({
    name: 'odl',
    // The plugin refreshes operational flow statistics every few seconds.
    settleMs: datastore === 'operational' ? 10_000 : 2000,
    plan(action, t) {
      return [...readSteps(t), ...(action === 'isolate' ? putSteps(t) : deleteSteps(t)), ...readSteps(t)];
    },
    async apply(t, io) {
      for (const step of putSteps(t))
        expectStatus(await send(io, step, auth), step, [200, 201, 204], notFound);
    },
    async verify(t, io): Promise<RuleCheck> {
      const present: string[] = [];
      const all = rules(t);
      const steps = readSteps(t);
      for (const [i, r] of all.entries()) {
        const step = steps[i]!;
        const answer = await send(io, step, auth);
        // 404 (RESTCONF "data-missing"): that flow is not there.
        if (answer.status === 404) continue;
        expectStatus(answer, step, [200], notFound);
        const json = parseJson(answer, step);
        const list = isRecord(json) ? (json['flow-node-inventory:flow'] ?? json['flow']) : undefined;
        const flow = Array.isArray(list) ? list.find((f) => isRecord(f) && f['id'] === r.id) : undefined;
        if (
          isRecord(flow) &&
          Number(flow['priority']) === priority &&
          sameMatch(r.match, flow['match']) &&
          drops(flow)
        )
          present.push(`${r.text} drop`);
      }
      return {
        expected: all.map((r) => `${r.text} drop`),
        present,
        detail: `${present.length} of ${all.length} drop flows (ids deminer-…, priority ${priority}, table ${table}) in the ${datastore} datastore of ${node}`,
      };
    },
    async release(t, io) {
      // 404: already gone from config; the read-back decides.
      for (const step of deleteSteps(t))
        expectStatus(await send(io, step, auth), step, [200, 204, 404], notFound);
    },
  });
}
