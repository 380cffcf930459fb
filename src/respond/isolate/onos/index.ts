import { UsageError } from '../../../core/errors.ts';
import { type ControllerAuth, expectStatus, httpStep, isRecord, parseJson, send } from '../controller.ts';
import { ActionError } from '../errors.ts';
import { DEFAULT_PRIORITY } from '../ovs/index.ts';
import { hostPrefix, shown } from '../target.ts';
import {
  type HttpStep,
  type IsolationBackend,
  type IsolationTarget,
  type RuleCheck,
  type StepRunner,
  withStatus,
} from '../types.ts';

/**
 * ONOS through its REST API (`/onos/v1/flows`): one flow rule per match with
 * a NOACTION (drop) treatment, posted to the device under deminer's
 * application id; ONOS answers 201 with the rule's id in `Location`. Read
 * back by id (or from the device's flow list), removed by id (see README.md).
 */
export interface OnosOptions {
  controller: string;
  device: string;
  auth: ControllerAuth;
  appId?: string;
  priority?: number;
}

export const ONOS_APP_ID = 'org.deminer.isolate';

export function checkDevice(text: string): string {
  if (!/^[a-z][a-z0-9]{0,15}:[A-Za-z0-9:._-]{1,64}$/.test(text))
    throw new UsageError(
      'ISOLATE_BAD_DEVICE',
      `--device must be an ONOS device id like of:0000000000000001 (got ${shown(text)})`,
      {
        location: '--device',
      },
    );
  return text;
}

export function checkAppId(text: string): string {
  if (!/^[A-Za-z][A-Za-z0-9._-]{0,99}$/.test(text))
    throw new UsageError(
      'ISOLATE_BAD_APP_ID',
      `--app-id must be an application name like ${ONOS_APP_ID} (got ${shown(text)})`,
      {
        location: '--app-id',
      },
    );
  return text;
}

type Criterion = Record<string, string | number>;

/** The selector criteria of each rule, in the JSON of ONOS's criterion codec. */
export function onosSelectors(t: IsolationTarget): Criterion[][] {
  const out: Criterion[][] =
    t.family === 4
      ? [
          [
            { type: 'ETH_TYPE', ethType: '0x800' },
            { type: 'IPV4_SRC', ip: hostPrefix(t) },
          ],
          [
            { type: 'ETH_TYPE', ethType: '0x800' },
            { type: 'IPV4_DST', ip: hostPrefix(t) },
          ],
          [
            { type: 'ETH_TYPE', ethType: '0x806' },
            { type: 'ARP_SPA', ip: t.ip },
          ],
          [
            { type: 'ETH_TYPE', ethType: '0x806' },
            { type: 'ARP_TPA', ip: t.ip },
          ],
        ]
      : [
          [
            { type: 'ETH_TYPE', ethType: '0x86dd' },
            { type: 'IPV6_SRC', ip: hostPrefix(t) },
          ],
          [
            { type: 'ETH_TYPE', ethType: '0x86dd' },
            { type: 'IPV6_DST', ip: hostPrefix(t) },
          ],
        ];
  if (t.mac) out.push([{ type: 'ETH_SRC', mac: t.mac }], [{ type: 'ETH_DST', mac: t.mac }]);
  if (t.port) out.push([{ type: 'IN_PORT', port: Number(t.port) }]);
  return out;
}

/** One criterion as comparable text: ethType as a number (ONOS prints "0x800"), addresses lower-case. */
function criterionKey(c: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(c)) {
    let value = String(v).toLowerCase();
    if (k === 'ethType') value = String(typeof v === 'number' ? v : Number(String(v)));
    parts.push(`${k}=${value}`);
  }
  return parts.sort().join(',');
}

function selectorKey(criteria: readonly Record<string, unknown>[]): string {
  return criteria.map(criterionKey).sort().join(' & ');
}

function describe(sel: Criterion[]): string {
  return `${sel
    .filter((c) => c['type'] !== 'ETH_TYPE')
    .map((c) => `${c['type']}=${c['ip'] ?? c['mac'] ?? c['port']}`)
    .join(',')} drop`;
}

/** The flow id at the end of a `Location: …/onos/v1/flows/{deviceId}/{flowId}`. */
export function flowIdFromLocation(location: string | undefined): string | undefined {
  const last = location?.split('?')[0]?.split('/').pop();
  return last && /^-?[0-9]{1,20}$/.test(last) ? last : undefined;
}

export function onosBackend(opts: OnosOptions): IsolationBackend {
  const base = opts.controller;
  const device = checkDevice(opts.device);
  const appId = checkAppId(opts.appId ?? ONOS_APP_ID);
  const priority = opts.priority ?? DEFAULT_PRIORITY;
  const auth = opts.auth;
  const dev = encodeURIComponent(device);
  /** Ids ONOS gave our rules in this run (Location headers), by selector. */
  const known = new Map<string, string>();

  const listStep = (): HttpStep => httpStep('read', 'GET', `${base}/onos/v1/flows/${dev}`, auth);
  const postSteps = (t: IsolationTarget): HttpStep[] =>
    onosSelectors(t).map((criteria) =>
      httpStep('apply', 'POST', `${base}/onos/v1/flows/${dev}?appId=${encodeURIComponent(appId)}`, auth, {
        priority,
        timeout: 0,
        isPermanent: true,
        deviceId: device,
        treatment: { instructions: [{ type: 'NOACTION' }] },
        selector: { criteria },
      }),
    );
  const deleteStep = (id: string): HttpStep =>
    httpStep('release', 'DELETE', `${base}/onos/v1/flows/${dev}/${encodeURIComponent(id)}`, auth);
  const unknown = `ONOS knows no device ${device} (or it has no flow table yet)`;

  /** Our rules in an ONOS flow list: same application, priority, drop treatment and selector. */
  function ours(flows: unknown): Map<string, { id: string; state: string }> {
    const out = new Map<string, { id: string; state: string }>();
    const list = isRecord(flows) && Array.isArray(flows['flows']) ? flows['flows'] : [];
    for (const f of list) {
      if (!isRecord(f) || f['appId'] !== appId || f['priority'] !== priority) continue;
      const sel = f['selector'];
      const criteria =
        isRecord(sel) && Array.isArray(sel['criteria']) ? sel['criteria'].filter(isRecord) : [];
      const tr = f['treatment'];
      const instructions = isRecord(tr) && Array.isArray(tr['instructions']) ? tr['instructions'] : [];
      const drops =
        instructions.length === 0 ||
        (instructions.length === 1 && isRecord(instructions[0]) && instructions[0]['type'] === 'NOACTION');
      if (!drops) continue;
      out.set(selectorKey(criteria), { id: String(f['id']), state: String(f['state'] ?? '') });
    }
    return out;
  }

  async function read(io: StepRunner, step: HttpStep) {
    const answer = await send(io, step, auth);
    expectStatus(answer, step, [200], unknown);
    return ours(parseJson(answer, step));
  }

  async function verify(t: IsolationTarget, io: StepRunner): Promise<RuleCheck> {
    const wanted = onosSelectors(t);
    const found = new Map<string, { id: string; state: string }>();
    const ids = wanted.map((w) => known.get(selectorKey(w)));
    if (ids.every((id) => id !== undefined)) {
      // Right after our POSTs: read each rule by the id ONOS gave it.
      for (const id of ids) {
        const step = httpStep('read', 'GET', `${base}/onos/v1/flows/${dev}/${encodeURIComponent(id!)}`, auth);
        for (const [k, v] of await read(io, step)) found.set(k, v);
      }
    } else for (const [k, v] of await read(io, listStep())) found.set(k, v);
    const present: string[] = [];
    const pending: string[] = [];
    const seenIds: string[] = [];
    const states: string[] = [];
    for (const w of wanted) {
      const f = found.get(selectorKey(w));
      if (!f) continue;
      seenIds.push(f.id);
      states.push(`${describe(w)}: ${f.state}`);
      if (f.state === 'ADDED') present.push(describe(w));
      else if (f.state !== 'REMOVED' && f.state !== 'FAILED') pending.push(describe(w));
    }
    return {
      expected: wanted.map(describe),
      present,
      pending,
      ids: seenIds,
      detail: `${present.length} of ${wanted.length} drop rules ADDED on ${device} (app ${appId}, priority ${priority})${
        states.length > present.length ? `; ${states.filter((s) => !s.endsWith(': ADDED')).join('; ')}` : ''
      }`,
    };
  }

  return withStatus({
    name: 'onos',
    settleMs: 5000,
    plan(action, t) {
      if (action === 'isolate') return [listStep(), ...postSteps(t), listStep()];
      return [listStep(), deleteStep('{flowId of each rule found}'), listStep()];
    },
    async apply(t, io) {
      const wanted = onosSelectors(t);
      const steps = postSteps(t);
      for (const [i, step] of steps.entries()) {
        const answer = await send(io, step, auth);
        expectStatus(answer, step, [200, 201], unknown);
        const id = flowIdFromLocation(answer.location);
        if (!id)
          throw new ActionError(
            'CONTROLLER_BAD_ANSWER',
            `${step.method} ${step.url} answered ${answer.status} without a flow id in Location`,
            { retryable: true },
          );
        known.set(selectorKey(wanted[i]!), id);
      }
    },
    verify,
    async release(t, io, before) {
      const check = before ?? (await verify(t, io));
      for (const id of check.ids ?? []) {
        const step = deleteStep(id);
        // 404: the device lost the rule meanwhile; the read-back decides.
        expectStatus(await send(io, step, auth), step, [200, 204, 404], unknown);
      }
      known.clear();
    },
  });
}
