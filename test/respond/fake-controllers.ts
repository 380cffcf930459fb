/**
 * Local stand-ins for the SDN controllers, each checking every request
 * against its vendor's documented format (method, path, headers, body) and
 * keeping the flows it was given so a read-back sees them, the way the real
 * one does:
 *
 * - Ryu ofctl_rest: doc/source/app/ofctl_rest.rst (flowentry/add,
 *   delete_strict, GET /stats/flow/<dpid>; match names printed back in their
 *   OpenFlow 1.0 spelling, as ryu.lib.ofctl_v1_3.match_to_str does).
 * - ONOS: FlowsWebResource (POST /onos/v1/flows/{deviceId}?appId= → 201 with
 *   Location …/{deviceId}/{flowId}; GET and DELETE by id; 404 "Device is not
 *   found"); rules go PENDING_ADD → ADDED a little later.
 * - OpenDaylight: openflowplugin docs/users/operation.rst (PUT/DELETE in the
 *   config datastore; the operational datastore shows a flow a little later,
 *   as the statistics poll does).
 * - The playbook's generic controller: POST/DELETE/GET /api/v1/flow-rules.
 *
 * Modes turn a fake into a failing controller: 401 for every request, 500,
 * one that never answers, and one that accepts rules but never installs them.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Mode = 'ok' | 'auth' | 'error' | 'hang' | 'noinstall';

export interface Recorded {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface Fake {
  url: string;
  mode: Mode;
  requests: Recorded[];
  /** Requests that broke the documented format (the tests expect none). */
  violations: string[];
  /** Installed rules, in the fake's own terms. */
  rules(): unknown[];
  close(): Promise<void>;
}

type Handler = (req: Recorded, res: ServerResponse, fake: Fake) => void;

function send(
  res: ServerResponse,
  status: number,
  body?: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { ...(text ? { 'Content-Type': 'application/json' } : {}), ...headers });
  res.end(text);
}

function basicOk(req: Recorded, user: string, password: string): boolean {
  return req.headers.authorization === `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

function jsonBody(req: Recorded, fake: Fake): unknown {
  if (!/^application\/json/.test(String(req.headers['content-type'] ?? '')))
    fake.violations.push(`${req.method} ${req.path}: Content-Type is ${req.headers['content-type']}`);
  try {
    return JSON.parse(req.body);
  } catch {
    fake.violations.push(`${req.method} ${req.path}: body is not JSON`);
    return undefined;
  }
}

async function start(handler: Handler, rules: () => unknown[]): Promise<Fake> {
  const hanging: ServerResponse[] = [];
  const fake: Fake = {
    url: '',
    mode: 'ok',
    requests: [],
    violations: [],
    rules,
    close: () =>
      new Promise<void>((resolve) => {
        for (const r of hanging) r.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      body += d;
    });
    req.on('end', () => {
      const rec: Recorded = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body };
      fake.requests.push(rec);
      if (fake.mode === 'hang') {
        hanging.push(res);
        return;
      }
      if (fake.mode === 'auth') return send(res, 401, { code: 401, message: 'Unauthorized' });
      if (fake.mode === 'error') return send(res, 500, { code: 500, message: 'internal error' });
      handler(rec, res, fake);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

// ---- Ryu ofctl_rest --------------------------------------------------------------

const RYU_MATCH_FIELDS = new Set([
  'in_port',
  'dl_src',
  'dl_dst',
  'eth_src',
  'eth_dst',
  'dl_type',
  'eth_type',
  'nw_src',
  'nw_dst',
  'ipv4_src',
  'ipv4_dst',
  'arp_spa',
  'arp_tpa',
  'ipv6_src',
  'ipv6_dst',
]);
const RYU_BACK: Record<string, string> = {
  eth_src: 'dl_src',
  eth_dst: 'dl_dst',
  eth_type: 'dl_type',
  ipv4_src: 'nw_src',
  ipv4_dst: 'nw_dst',
};

interface RyuFlow {
  dpid: number;
  cookie: number;
  table_id: number;
  priority: number;
  match: Record<string, unknown>;
  actions: unknown[];
}

export function startRyu(dpids: number[] = [1]): Promise<Fake> {
  const flows: RyuFlow[] = [];
  const key = (f: Pick<RyuFlow, 'dpid' | 'table_id' | 'priority' | 'match'>) =>
    JSON.stringify([f.dpid, f.table_id, f.priority, Object.entries(f.match).sort()]);
  const handler: Handler = (req, res, fake) => {
    const flowStats = /^\/stats\/flow\/([0-9]+)$/.exec(req.path);
    if (req.method === 'GET' && flowStats) {
      const dpid = Number(flowStats[1]);
      if (!dpids.includes(dpid)) return send(res, 404);
      return send(res, 200, {
        [String(dpid)]: flows
          .filter((f) => f.dpid === dpid)
          .map((f) => ({
            ...f,
            dpid: undefined,
            idle_timeout: 0,
            hard_timeout: 0,
            packet_count: 0,
            byte_count: 0,
          })),
      });
    }
    if (req.method !== 'POST' || !/^\/stats\/flowentry\/(add|delete_strict)$/.test(req.path))
      return send(res, 404);
    const b = jsonBody(req, fake) as Partial<RyuFlow> & { cookie_mask?: number };
    if (typeof b?.dpid !== 'number') {
      fake.violations.push(`${req.path}: dpid must be an int`);
      return send(res, 400);
    }
    if (!dpids.includes(b.dpid)) return send(res, 404);
    const match = b.match ?? {};
    for (const k of Object.keys(match))
      if (!RYU_MATCH_FIELDS.has(k)) fake.violations.push(`${req.path}: unknown match field ${k}`);
    if (!Array.isArray(b.actions)) fake.violations.push(`${req.path}: actions must be a list`);
    if (typeof b.priority !== 'number') fake.violations.push(`${req.path}: priority must be an int`);
    // What the switch keeps and ofctl_rest prints: OpenFlow 1.0 names for the fields that have one.
    const stored = Object.fromEntries(Object.entries(match).map(([k, v]) => [RYU_BACK[k] ?? k, v]));
    const f: RyuFlow = {
      dpid: b.dpid,
      cookie: b.cookie ?? 0,
      table_id: b.table_id ?? 0,
      priority: b.priority ?? 0,
      match: stored,
      actions: b.actions ?? [],
    };
    if (req.path.endsWith('/add')) {
      if (fake.mode !== 'noinstall') {
        // OpenFlow: an identical match and priority replaces the flow.
        const i = flows.findIndex((x) => key(x) === key(f));
        if (i >= 0) flows.splice(i, 1);
        flows.push(f);
      }
      return send(res, 200);
    }
    const mask = b.cookie_mask ?? 0;
    for (let i = flows.length - 1; i >= 0; i--) {
      const x = flows[i]!;
      if (key(x) === key(f) && (x.cookie & mask) === (f.cookie & mask)) flows.splice(i, 1);
    }
    return send(res, 200);
  };
  return start(handler, () => flows);
}

// ---- ONOS --------------------------------------------------------------------------

const ONOS_CRITERIA: Record<string, string> = {
  ETH_TYPE: 'ethType',
  IPV4_SRC: 'ip',
  IPV4_DST: 'ip',
  IPV6_SRC: 'ip',
  IPV6_DST: 'ip',
  ARP_SPA: 'ip',
  ARP_TPA: 'ip',
  ETH_SRC: 'mac',
  ETH_DST: 'mac',
  IN_PORT: 'port',
};

interface OnosFlow {
  id: string;
  appId: string;
  deviceId: string;
  priority: number;
  state: 'PENDING_ADD' | 'ADDED';
  selector: { criteria: Record<string, unknown>[] };
  treatment: { instructions: unknown[] };
}

export function startOnos(devices: string[] = ['of:0000000000000001'], pendingMs = 150): Promise<Fake> {
  const flows: OnosFlow[] = [];
  const encode = (f: OnosFlow) => ({
    ...f,
    groupId: 0,
    timeout: 0,
    isPermanent: true,
    tableId: 0,
    life: 1,
    packets: 0,
    bytes: 0,
    treatment: { ...f.treatment, deferred: [] },
  });
  const handler: Handler = (req, res, fake) => {
    if (!basicOk(req, 'onos', 'rocks')) return send(res, 401);
    const m = /^\/onos\/v1\/flows\/([^/?]+)(?:\/([^/?]+))?(?:\?(.*))?$/.exec(req.path);
    if (!m) return send(res, 404);
    const device = decodeURIComponent(m[1]!);
    const known = devices.includes(device);
    const notFound = () => send(res, 404, { code: 404, message: 'Device is not found' });
    if (req.method === 'POST' && !m[2]) {
      if (!known) return notFound();
      const appId = new URLSearchParams(m[3] ?? '').get('appId') ?? 'org.onosproject.rest';
      const b = jsonBody(req, fake) as Partial<OnosFlow> & { isPermanent?: boolean; timeout?: number };
      if (b?.deviceId !== undefined && b.deviceId !== device)
        return send(res, 400, { message: 'Invalid deviceId in flow creation request' });
      if (typeof b?.priority !== 'number') fake.violations.push('POST flows: priority must be a number');
      if (b?.isPermanent !== true && typeof b?.timeout !== 'number')
        fake.violations.push('POST flows: needs isPermanent or timeout');
      for (const c of b?.selector?.criteria ?? []) {
        const field = ONOS_CRITERIA[String(c['type'])];
        if (!field || !(field in c)) fake.violations.push(`POST flows: bad criterion ${JSON.stringify(c)}`);
      }
      if (!Array.isArray(b?.treatment?.instructions))
        fake.violations.push('POST flows: treatment.instructions');
      // ONOS derives the id from the rule itself: the same rule posted twice is one rule.
      const id = String(
        createHash('sha256')
          .update(JSON.stringify([appId, device, b.priority, b.selector]))
          .digest()
          .readUInt32BE(0),
      );
      if (fake.mode !== 'noinstall' && !flows.some((f) => f.id === id)) {
        const f: OnosFlow = {
          id,
          appId,
          deviceId: device,
          priority: b.priority ?? 0,
          state: 'PENDING_ADD',
          selector: b.selector ?? { criteria: [] },
          treatment: b.treatment ?? { instructions: [] },
        };
        flows.push(f);
        setTimeout(() => {
          f.state = 'ADDED';
        }, pendingMs);
      }
      return send(res, 201, undefined, {
        Location: `${fake.url}/onos/v1/flows/${encodeURIComponent(device)}/${id}`,
      });
    }
    if (req.method === 'GET') {
      if (!known) return notFound();
      const list = flows.filter((f) => f.deviceId === device && (!m[2] || f.id === m[2]));
      return send(res, 200, { flows: list.map(encode) });
    }
    if (req.method === 'DELETE' && m[2]) {
      if (!known) return notFound();
      const i = flows.findIndex((f) => f.id === m[2]);
      if (i >= 0) flows.splice(i, 1);
      return send(res, 204);
    }
    return send(res, 405);
  };
  return start(handler, () => flows);
}

// ---- OpenDaylight ------------------------------------------------------------------

export function startOdl(nodes: string[] = ['openflow:1'], statsMs = 200): Promise<Fake> {
  const config = new Map<string, Record<string, unknown>>();
  const operational = new Map<string, Record<string, unknown>>();
  const handler: Handler = (req, res, fake) => {
    if (!basicOk(req, 'admin', 'admin')) return send(res, 401);
    const bierman =
      /^\/restconf\/(config|operational)\/opendaylight-inventory:nodes\/node\/([^/]+)\/flow-node-inventory:table\/([0-9]+)\/flow\/([^/?]+)$/.exec(
        req.path,
      );
    const rfc =
      /^\/rests\/data\/opendaylight-inventory:nodes\/node=([^/]+)\/flow-node-inventory:table=([0-9]+)\/flow=([^/?]+)(?:\?content=(config|nonconfig))?$/.exec(
        req.path,
      );
    if (!bierman && !rfc) return send(res, 404);
    const store = bierman ? bierman[1]! : rfc![4] === 'nonconfig' ? 'operational' : 'config';
    const node = decodeURIComponent(bierman ? bierman[2]! : rfc![1]!);
    const table = Number(bierman ? bierman[3] : rfc![2]);
    const id = decodeURIComponent(bierman ? bierman[4]! : rfc![3]!);
    const key = `${node}/${table}/${id}`;
    const missing = () =>
      send(res, 404, {
        errors: {
          error: [{ 'error-type': 'application', 'error-tag': 'data-missing', 'error-message': 'no data' }],
        },
      });
    if (!nodes.includes(node)) return missing();
    if (req.method === 'PUT' && store === 'config') {
      const b = jsonBody(req, fake) as { 'flow-node-inventory:flow'?: Record<string, unknown>[] } | undefined;
      const flow = b?.['flow-node-inventory:flow']?.[0];
      if (!flow || flow['id'] !== id || flow['table_id'] !== table) {
        fake.violations.push(`PUT ${req.path}: body id/table_id must match the URL`);
        return send(res, 400);
      }
      const actions = JSON.stringify(flow['instructions'] ?? {});
      if (!actions.includes('"drop-action":{}')) fake.violations.push(`PUT ${req.path}: no drop-action`);
      if (fake.mode === 'noinstall') return send(res, 201);
      const existed = config.has(key);
      config.set(key, flow);
      // The switch reports it on the next statistics poll.
      setTimeout(() => {
        if (config.has(key))
          operational.set(key, { ...flow, 'opendaylight-flow-statistics:flow-statistics': {} });
      }, statsMs);
      return send(res, existed ? 200 : 201);
    }
    if (req.method === 'DELETE' && store === 'config') {
      if (!config.delete(key)) return missing();
      setTimeout(() => operational.delete(key), statsMs);
      return send(res, 200);
    }
    if (req.method === 'GET') {
      const flow = (store === 'config' ? config : operational).get(key);
      return flow ? send(res, 200, { 'flow-node-inventory:flow': [flow] }) : missing();
    }
    return send(res, 405);
  };
  return start(handler, () => [...operational.values()]);
}

// ---- the playbook's generic controller -------------------------------------------------

export function startGeneric(token = 'sdn-secret'): Promise<Fake> {
  const rules: unknown[] = [];
  const handler: Handler = (req, res, fake) => {
    if (req.headers.authorization !== `Bearer ${token}`) return send(res, 401);
    if (req.path !== '/api/v1/flow-rules') return send(res, 404);
    if (req.method === 'GET') return send(res, 200, { rules });
    const b = jsonBody(req, fake) as
      | { match?: { 'src-ip'?: string }; actions?: { output?: string } }
      | undefined;
    if (typeof b?.match?.['src-ip'] !== 'string' || b.actions?.output !== 'DROP') {
      fake.violations.push(`${req.method} ${req.path}: not the playbook's rule: ${req.body}`);
      return send(res, 400);
    }
    if (req.method === 'POST') {
      // A naive controller: posting twice stores twice (deminer must not).
      if (fake.mode !== 'noinstall') rules.push({ id: rules.length + 1, ...b });
      return send(res, 201, { status: 'created' });
    }
    if (req.method === 'DELETE') {
      const before = rules.length;
      for (let i = rules.length - 1; i >= 0; i--)
        if ((rules[i] as { match: { 'src-ip': string } }).match['src-ip'] === b.match['src-ip'])
          rules.splice(i, 1);
      return send(res, rules.length < before ? 200 : 404);
    }
    return send(res, 405);
  };
  return start(handler, () => rules);
}
