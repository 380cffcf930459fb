import { z } from 'zod';
import { durationSchema } from '../../core/config.ts';
import { UsageError } from '../../core/errors.ts';
import { SEVERITIES, type Severity } from '../../core/severity.ts';
import {
  basicAuth,
  bearerAuth,
  type ControllerAuth,
  headersAuth,
  mergeAuth,
  parseControllerUrl,
} from './controller.ts';
import { httpTemplates } from './http/index.ts';
import { type BackendSpec, createBackend } from './registry.ts';
import { parseDpid } from './ryu/index.ts';
import { canonicalCidr, type ProtectedEntry, protectedEntry } from './safety.ts';
import type { IsolationBackend } from './types.ts';

/**
 * The server's isolation configuration (`deminer serve|up`): the backends it
 * may use and their options, the automatic policy, approvals, expiry and
 * retries. From the config file's `respond.isolation` section, with the
 * command line's `--isolate-*` options on top:
 *
 *   respond:
 *     never_isolate: [10.0.0.1]
 *     isolation:
 *       backend: ovs                 # the default for requests and the policy
 *       backends:
 *         ovs: { bridge: br0 }
 *         ryu: { controller: "http://ryu:8080", dpid: 1 }
 *         agent-nftables: {}         # hosts with an agent, on their own firewall
 *       auto: { min_severity: critical, rules: [deminer.process.miner] }
 *       approval: { min_severity: high }
 *       require_approval: false      # manual requests wait for approval too
 *       ttl: 4h                      # released then unless renewed
 *       retries: 2
 */

export const AGENT_NFTABLES = 'agent-nftables';
export const SERVER_BACKENDS = ['ovs', 'ryu', 'onos', 'odl', 'http', AGENT_NFTABLES] as const;
export type ServerBackendName = (typeof SERVER_BACKENDS)[number];

const cidrText = z
  .string()
  .max(64)
  .refine((s) => canonicalCidr(s) !== undefined, { message: 'not an address or CIDR prefix' });
const priority = z.number().int().min(1).max(65535).optional();
const table = z.number().int().min(0).max(254).optional();
/** Credentials are named, never written: the variable holding them. */
const envName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]{0,63}$/, 'an environment variable name')
  .optional();
const controllerFields = {
  controller: z.string().min(1).max(2000),
  user: z.string().min(1).max(200).optional(),
  password_env: envName.describe('the environment variable holding the password'),
  token_env: envName.describe('the environment variable holding a bearer token'),
  headers: z.array(z.string().max(8192)).max(50).optional(),
};

export const serverBackendsSchema = z.strictObject({
  ovs: z
    .strictObject({ bridge: z.string().min(1).max(64), priority, bundle: z.boolean().optional() })
    .optional(),
  ryu: z
    .strictObject({
      ...controllerFields,
      dpid: z.union([z.number().int().min(0), z.string().min(1)]),
      table,
      priority,
    })
    .optional(),
  onos: z
    .strictObject({
      ...controllerFields,
      device: z.string().min(1).max(200),
      app_id: z.string().optional(),
      priority,
    })
    .optional(),
  odl: z
    .strictObject({
      ...controllerFields,
      node: z.string().min(1).max(200),
      table,
      priority,
      restconf: z.enum(['restconf', 'rfc8040']).optional(),
      datastore: z.enum(['operational', 'config']).optional(),
    })
    .optional(),
  http: z
    .strictObject({
      ...controllerFields,
      apply_method: z.string().optional(),
      apply_path: z.string().optional(),
      apply_body: z.string().optional(),
      release_method: z.string().optional(),
      release_path: z.string().optional(),
      release_body: z.string().optional(),
      verify_path: z.string().optional(),
    })
    .optional(),
  [AGENT_NFTABLES]: z
    .strictObject({
      /** Addresses the isolated host still reaches besides the server's own (e.g. a jump host). */
      allow: z.array(cidrText).max(100).optional(),
      /** DNS servers it still reaches (default: its own resolvers). */
      dns: z.array(cidrText).max(20).optional(),
    })
    .optional(),
});

const policyRule = z.strictObject({
  min_severity: z.enum(SEVERITIES),
  /** Rule ids (the confirmatory ones); absent: any rule at that severity. */
  rules: z.array(z.string().min(1).max(200)).max(1000).optional(),
});

export const isolationConfigSchema = z.strictObject({
  backend: z.enum(SERVER_BACKENDS).optional(),
  backends: serverBackendsSchema.optional(),
  auto: policyRule.optional(),
  approval: policyRule.optional(),
  require_approval: z.boolean().optional(),
  ttl: durationSchema.optional(),
  retries: z.number().int().min(0).max(10).optional(),
  backoff: durationSchema.optional(),
  timeout: durationSchema.optional(),
  settle: durationSchema.optional(),
  /** How long an agent may take to report its firewall change before the isolation counts as failed. */
  agent_report_timeout: durationSchema.optional(),
});

export type IsolationConfig = z.input<typeof isolationConfigSchema>;
export type ParsedIsolationConfig = z.output<typeof isolationConfigSchema>;

export interface PolicyRule {
  minSeverity: Severity;
  rules?: readonly string[];
}

export interface IsolationPolicy {
  /** Isolated at once, without approval. */
  auto?: PolicyRule;
  /** A request that waits for an analyst's approval. */
  approval?: PolicyRule;
  /** Manual requests (the API, the console) wait for approval too. */
  requireApproval: boolean;
}

export interface AgentNftablesSettings {
  allow: string[];
  dns?: string[];
}

/** The configuration resolved: backends built, durations in milliseconds. */
export interface IsolationSettings {
  /** Network backends, built once (they hold no state between runs). */
  network: Map<Exclude<ServerBackendName, typeof AGENT_NFTABLES>, IsolationBackend>;
  agent?: AgentNftablesSettings;
  defaultBackend?: ServerBackendName;
  policy: IsolationPolicy;
  /** Config file entries and options; the server adds its own addresses and this host's infrastructure. */
  neverIsolate: ProtectedEntry[];
  ttlMs?: number;
  retries: number;
  backoffMs: number;
  timeoutMs: number;
  settleMs?: number;
  agentReportTimeoutMs: number;
}

export const ISOLATION_DEFAULTS = {
  retries: 2,
  backoffMs: 500,
  timeoutMs: 5000,
  agentReportTimeoutMs: 5 * 60_000,
} as const;

function env(name: string | undefined, where: string): string | undefined {
  if (name === undefined) return undefined;
  const v = process.env[name];
  if (v === undefined || v === '')
    throw new UsageError('BAD_CONFIG', `${where}: the environment variable ${name} is not set`, {
      location: where,
    });
  return v;
}

/** Credentials as the CLI takes them: a bearer token, else user and password, else the vendor's documented default. */
function controllerAuth(
  o: { user?: string; password_env?: string; token_env?: string; headers?: string[] },
  backend: 'ryu' | 'onos' | 'odl' | 'http',
  where: string,
): ControllerAuth {
  const parts: ControllerAuth[] = [];
  const token = env(o.token_env, `${where}.token_env`) ?? process.env['DEMINER_CONTROLLER_TOKEN'];
  if (token) parts.push(bearerAuth(token));
  else {
    const defaults: Partial<Record<string, [string, string]>> = {
      onos: ['onos', 'rocks'],
      odl: ['admin', 'admin'],
    };
    const vendorEnv =
      backend === 'onos'
        ? process.env['DEMINER_ONOS_PASSWORD']
        : backend === 'odl'
          ? process.env['DEMINER_ODL_PASSWORD']
          : undefined;
    const user = o.user ?? defaults[backend]?.[0];
    const password =
      env(o.password_env, `${where}.password_env`) ??
      vendorEnv ??
      process.env['DEMINER_CONTROLLER_PASSWORD'] ??
      defaults[backend]?.[1];
    if (user !== undefined && password !== undefined) parts.push(basicAuth(user, password));
  }
  parts.push(headersAuth(o.headers ?? []));
  return mergeAuth(...parts);
}

/** One backend's options as a spec the registry builds from (the same checks as the CLI's). */
function networkSpec(
  name: Exclude<ServerBackendName, typeof AGENT_NFTABLES>,
  o: object,
  where: string,
): BackendSpec {
  switch (name) {
    case 'ovs': {
      const x = o as NonNullable<z.output<typeof serverBackendsSchema>['ovs']>;
      return {
        backend: 'ovs',
        bridge: x.bridge,
        ...(x.priority === undefined ? {} : { priority: x.priority }),
        bundle: x.bundle !== false,
      };
    }
    case 'ryu': {
      const x = o as NonNullable<z.output<typeof serverBackendsSchema>['ryu']>;
      return {
        backend: 'ryu',
        controller: parseControllerUrl(x.controller, `${where}.controller`),
        dpid: typeof x.dpid === 'number' ? x.dpid : parseDpid(x.dpid),
        ...(x.table === undefined ? {} : { table: x.table }),
        ...(x.priority === undefined ? {} : { priority: x.priority }),
        auth: controllerAuth(x, 'ryu', where),
      };
    }
    case 'onos': {
      const x = o as NonNullable<z.output<typeof serverBackendsSchema>['onos']>;
      return {
        backend: 'onos',
        controller: parseControllerUrl(x.controller, `${where}.controller`),
        device: x.device,
        ...(x.app_id === undefined ? {} : { appId: x.app_id }),
        ...(x.priority === undefined ? {} : { priority: x.priority }),
        auth: controllerAuth(x, 'onos', where),
      };
    }
    case 'odl': {
      const x = o as NonNullable<z.output<typeof serverBackendsSchema>['odl']>;
      return {
        backend: 'odl',
        controller: parseControllerUrl(x.controller, `${where}.controller`),
        node: x.node,
        ...(x.table === undefined ? {} : { table: x.table }),
        ...(x.priority === undefined ? {} : { priority: x.priority }),
        api: x.restconf ?? 'restconf',
        datastore: x.datastore ?? 'operational',
        auth: controllerAuth(x, 'odl', where),
      };
    }
    case 'http': {
      const x = o as NonNullable<z.output<typeof serverBackendsSchema>['http']>;
      return {
        backend: 'http',
        controller: parseControllerUrl(x.controller, `${where}.controller`),
        auth: controllerAuth(x, 'http', where),
        ...httpTemplates({
          ...(x.apply_method === undefined ? {} : { applyMethod: x.apply_method }),
          ...(x.apply_path === undefined ? {} : { applyPath: x.apply_path }),
          ...(x.apply_body === undefined ? {} : { applyBody: x.apply_body }),
          ...(x.release_method === undefined ? {} : { releaseMethod: x.release_method }),
          ...(x.release_path === undefined ? {} : { releasePath: x.release_path }),
          ...(x.release_body === undefined ? {} : { releaseBody: x.release_body }),
          ...(x.verify_path === undefined ? {} : { verifyPath: x.verify_path }),
        }),
      };
    }
  }
}

const policyOf = (r: z.output<typeof policyRule> | undefined): PolicyRule | undefined =>
  r === undefined ? undefined : { minSeverity: r.min_severity, ...(r.rules ? { rules: r.rules } : {}) };

/**
 * Builds the settings; a backend option that does not hold (a bad bridge
 * name, a controller URL with credentials in it) is a usage error naming
 * where it came from, at start-up rather than at the first isolation.
 */
export function isolationSettings(
  cfg: ParsedIsolationConfig | undefined,
  neverIsolate: readonly ProtectedEntry[] = [],
  where = 'respond.isolation',
): IsolationSettings {
  const c = cfg ?? {};
  const network: IsolationSettings['network'] = new Map();
  let agent: AgentNftablesSettings | undefined;
  for (const name of SERVER_BACKENDS) {
    const o = c.backends?.[name];
    if (o === undefined) continue;
    if (name === AGENT_NFTABLES) {
      const a = o as NonNullable<z.output<typeof serverBackendsSchema>[typeof AGENT_NFTABLES]>;
      agent = { allow: [...(a.allow ?? [])], ...(a.dns ? { dns: [...a.dns] } : {}) };
      continue;
    }
    network.set(name, createBackend(networkSpec(name, o, `${where}.backends.${name}`)));
  }
  const configured = [...network.keys(), ...(agent ? [AGENT_NFTABLES] : [])] as ServerBackendName[];
  let defaultBackend = c.backend;
  if (defaultBackend !== undefined && !configured.includes(defaultBackend))
    throw new UsageError(
      'BAD_CONFIG',
      `${where}.backend is ${defaultBackend}, which has no options under ${where}.backends (configured: ${configured.join(', ') || 'none'})`,
      { location: `${where}.backend` },
    );
  if (defaultBackend === undefined && configured.length === 1) defaultBackend = configured[0];
  if ((c.auto || c.approval) && defaultBackend === undefined)
    throw new UsageError(
      'BAD_CONFIG',
      `${where}: a policy (auto or approval) needs a backend: configure one under ${where}.backends (and name the default in ${where}.backend when there are several)`,
      { location: `${where}.backend` },
    );
  const auto = policyOf(c.auto);
  const approval = policyOf(c.approval);
  return {
    network,
    ...(agent ? { agent } : {}),
    ...(defaultBackend ? { defaultBackend } : {}),
    policy: {
      ...(auto ? { auto } : {}),
      ...(approval ? { approval } : {}),
      requireApproval: c.require_approval === true,
    },
    neverIsolate: [...neverIsolate],
    ...(c.ttl === undefined ? {} : { ttlMs: c.ttl }),
    retries: c.retries ?? ISOLATION_DEFAULTS.retries,
    backoffMs: c.backoff ?? ISOLATION_DEFAULTS.backoffMs,
    timeoutMs: c.timeout ?? ISOLATION_DEFAULTS.timeoutMs,
    ...(c.settle === undefined ? {} : { settleMs: c.settle }),
    agentReportTimeoutMs: c.agent_report_timeout ?? ISOLATION_DEFAULTS.agentReportTimeoutMs,
  };
}

/** `respond.never_isolate` entries, each with where it came from. */
export function neverIsolateEntries(
  list: readonly (string | { cidr: string; reason?: string | undefined })[] | undefined,
  file: string,
): ProtectedEntry[] {
  return (list ?? []).map((e, i) => {
    const text = typeof e === 'string' ? e : e.cidr;
    const why = typeof e === 'string' || !e.reason ? '' : ` "${e.reason}"`;
    return protectedEntry(text, `${file} respond.never_isolate[${i}]${why}`);
  });
}

/**
 * `--isolate-backend` on `serve`/`up`: `NAME[:key=value,…]` as the config
 * file's `backends.NAME` (`ovs:bridge=br0`, `ryu:controller=http://ryu:8080,dpid=1`,
 * `agent-nftables`). Numbers and booleans are read as such; list options
 * (`headers`, `allow`, `dns`) take `+` between items.
 */
export function parseBackendOption(text: string): {
  name: ServerBackendName;
  options: Record<string, unknown>;
} {
  const colon = text.indexOf(':');
  const name = (colon < 0 ? text : text.slice(0, colon)).trim();
  if (!(SERVER_BACKENDS as readonly string[]).includes(name))
    throw new UsageError(
      'BAD_OPTION',
      `--isolate-backend: ${JSON.stringify(name.slice(0, 40))} is not a backend (${SERVER_BACKENDS.join(', ')})`,
      { location: '--isolate-backend' },
    );
  const options: Record<string, unknown> = {};
  const rest = colon < 0 ? '' : text.slice(colon + 1);
  // Values may hold commas of their own only in URLs' paths, which we do not expect: split on `,key=`.
  for (const part of rest.split(/,(?=[a-z_]+=)/)) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq < 1)
      throw new UsageError(
        'BAD_OPTION',
        `--isolate-backend ${name}: "${part.slice(0, 60)}" is not key=value`,
        {
          location: '--isolate-backend',
        },
      );
    const key = part.slice(0, eq).trim();
    const raw = part.slice(eq + 1).trim();
    options[key] = ['headers', 'allow', 'dns'].includes(key)
      ? raw.split('+').filter((x) => x !== '')
      : /^[0-9]{1,15}$/.test(raw) && key !== 'dpid' && key !== 'bridge'
        ? Number(raw)
        : raw === 'true' || raw === 'false'
          ? raw === 'true'
          : raw;
  }
  return { name: name as ServerBackendName, options };
}
