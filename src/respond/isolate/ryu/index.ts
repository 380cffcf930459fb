import { UsageError } from '../../../core/errors.ts';
import {
  type ControllerAuth,
  expectStatus,
  httpStep,
  isRecord,
  NO_AUTH,
  parseJson,
  send,
} from '../controller.ts';
import { DEFAULT_PRIORITY, DEMINER_COOKIE } from '../ovs/index.ts';
import { shown } from '../target.ts';
import {
  type HttpStep,
  type IsolationBackend,
  type IsolationTarget,
  type RuleCheck,
  withStatus,
} from '../types.ts';

/**
 * Ryu (or its fork os-ken) running `ryu.app.ofctl_rest`: drop flows with
 * `POST /stats/flowentry/add`, removed with `/stats/flowentry/delete_strict`,
 * read back with `GET /stats/flow/<dpid>` (see README.md).
 */
export interface RyuOptions {
  controller: string;
  dpid: number;
  table?: number;
  priority?: number;
  auth?: ControllerAuth;
}

/** `1`, `0x1` or `0000000000000001` (hex, as switches print it): a datapath id JSON can carry exactly. */
export function parseDpid(text: string): number {
  const t = text.trim().toLowerCase();
  let n = Number.NaN;
  if (/^[0-9]{1,16}$/.test(t) && !/^0[0-9]/.test(t)) n = Number(t);
  else if (/^0x[0-9a-f]{1,16}$/.test(t) || /^[0-9a-f]{16}$/.test(t))
    n = Number.parseInt(t.replace(/^0x/, ''), 16);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new UsageError(
      'ISOLATE_BAD_DPID',
      `--dpid must be a datapath id (decimal, 0x-hex or 16 hex digits) below 2^53 (got ${shown(text)})`,
      { location: '--dpid' },
    );
  return n;
}

/**
 * The match of each flow, with the field names ofctl_rest prints back
 * (`dl_type`, `nw_src` for what OpenFlow 1.0 also has; OpenFlow 1.3 names
 * for the rest), so a read-back compares like with like.
 */
export function ryuMatches(t: IsolationTarget): Record<string, string | number>[] {
  const out: Record<string, string | number>[] =
    t.family === 4
      ? [
          { dl_type: 2048, nw_src: t.ip },
          { dl_type: 2048, nw_dst: t.ip },
          { dl_type: 2054, arp_spa: t.ip },
          { dl_type: 2054, arp_tpa: t.ip },
        ]
      : [
          { dl_type: 34525, ipv6_src: t.ip },
          { dl_type: 34525, ipv6_dst: t.ip },
        ];
  if (t.mac) out.push({ dl_src: t.mac }, { dl_dst: t.mac });
  if (t.port) out.push({ in_port: Number(t.port) });
  return out;
}

/** ofctl_rest accepts either naming; it answers with these. */
const OF10_NAMES: Record<string, string> = {
  eth_type: 'dl_type',
  eth_src: 'dl_src',
  eth_dst: 'dl_dst',
  ipv4_src: 'nw_src',
  ipv4_dst: 'nw_dst',
};

function normalMatch(m: Record<string, unknown>): string {
  const out: string[] = [];
  for (const [k, v] of Object.entries(m)) {
    const key = OF10_NAMES[k] ?? k;
    let value = typeof v === 'string' ? v.toLowerCase() : String(v);
    // An exact address may come back with a full mask.
    value = value.replace(/\/(255\.255\.255\.255|32|128|ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff)$/, '');
    out.push(`${key}=${value}`);
  }
  return out.sort().join(',');
}

function describe(m: Record<string, string | number>): string {
  return `${Object.entries(m)
    .map(([k, v]) => `${k}=${v}`)
    .join(',')} drop`;
}

export function ryuBackend(opts: RyuOptions): IsolationBackend {
  const base = opts.controller;
  const auth = opts.auth ?? NO_AUTH;
  const table = opts.table ?? 0;
  const priority = opts.priority ?? DEFAULT_PRIORITY;

  const flow = (match: Record<string, string | number>, del: boolean) => ({
    dpid: opts.dpid,
    cookie: DEMINER_COOKIE,
    // Strict delete of our cookie only: another application's identical flow stays.
    ...(del ? { cookie_mask: 0xffffffff } : {}),
    table_id: table,
    idle_timeout: 0,
    hard_timeout: 0,
    priority,
    flags: 0,
    match,
    actions: [],
  });
  const readStep = (): HttpStep => httpStep('read', 'GET', `${base}/stats/flow/${opts.dpid}`, auth);
  const addSteps = (t: IsolationTarget): HttpStep[] =>
    ryuMatches(t).map((m) => httpStep('apply', 'POST', `${base}/stats/flowentry/add`, auth, flow(m, false)));
  const delSteps = (t: IsolationTarget): HttpStep[] =>
    ryuMatches(t).map((m) =>
      httpStep('release', 'POST', `${base}/stats/flowentry/delete_strict`, auth, flow(m, true)),
    );
  const unknown = `ofctl_rest knows no switch with datapath id ${opts.dpid} (is it connected to this controller?)`;

  return withStatus({
    name: 'ryu',
    settleMs: 2000,
    plan(action, t) {
      return [readStep(), ...(action === 'isolate' ? addSteps(t) : delSteps(t)), readStep()];
    },
    async apply(t, io) {
      for (const step of addSteps(t)) expectStatus(await send(io, step, auth), step, [200], unknown);
    },
    async verify(t, io): Promise<RuleCheck> {
      const step = readStep();
      const answer = await send(io, step, auth);
      expectStatus(answer, step, [200], unknown);
      const json = parseJson(answer, step);
      const flows = isRecord(json) ? json[String(opts.dpid)] : undefined;
      const list = Array.isArray(flows) ? flows.filter(isRecord) : [];
      const ours = list.filter(
        (f) =>
          f['cookie'] === DEMINER_COOKIE &&
          f['priority'] === priority &&
          (f['table_id'] ?? 0) === table &&
          Array.isArray(f['actions']) &&
          (f['actions'].length === 0 || (f['actions'].length === 1 && f['actions'][0] === 'DROP')),
      );
      const have = new Set(ours.map((f) => (isRecord(f['match']) ? normalMatch(f['match']) : '')));
      const wanted = ryuMatches(t);
      const present = wanted.filter((m) => have.has(normalMatch(m)));
      return {
        expected: wanted.map(describe),
        present: present.map(describe),
        detail: `${present.length} of ${wanted.length} drop flows (cookie ${DEMINER_COOKIE}, priority ${priority}, table ${table}) in GET /stats/flow/${opts.dpid}`,
      };
    },
    async release(t, io) {
      for (const step of delSteps(t)) expectStatus(await send(io, step, auth), step, [200], unknown);
    },
  });
}
