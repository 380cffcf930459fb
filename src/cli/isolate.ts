import type { Command } from 'commander';
import { parseDuration } from '../core/config.ts';
import { UsageError } from '../core/errors.ts';
import { escapeControls } from '../outputs/safe-text.ts';
import {
  basicAuth,
  bearerAuth,
  type ControllerAuth,
  headersAuth,
  mergeAuth,
  parseControllerUrl,
} from '../respond/isolate/controller.ts';
import { planText, resultLine } from '../respond/isolate/format.ts';
import { httpTemplates } from '../respond/isolate/http/index.ts';
import { checkLocal, systemResolvers } from '../respond/isolate/nftables/index.ts';
import { BACKENDS, createBackend } from '../respond/isolate/registry.ts';
import { resolveHostTarget } from '../respond/isolate/resolve-host.ts';
import { runIsolation } from '../respond/isolate/run.ts';
import { parseDpid } from '../respond/isolate/ryu/index.ts';
import {
  canonicalCidr,
  localInfrastructure,
  type ProtectedEntry,
  protectedEntry,
} from '../respond/isolate/safety.ts';
import { throughServer, throughServerLine } from '../respond/isolate/server-client.ts';
import { canonicalAddress, parseTarget, shown } from '../respond/isolate/target.ts';
import type { IsolationBackend, IsolationTarget } from '../respond/isolate/types.ts';
import { EXIT, parseChoice, type RegisterCommand } from './command.ts';
import { defaultConfigPath, loadDeminerConfig } from './config-file.ts';
import { addOutputOptions, type OutputCliOptions, withResultOut } from './output-options.ts';

type Backend = (typeof BACKENDS)[number];
const FORMATS = ['text', 'json'] as const;

interface IsolateOptions extends OutputCliOptions {
  backend: string;
  dryRun?: boolean;
  ttl?: string;
  retries: string;
  timeout: string;
  settle?: string;
  neverIsolate: string[];
  config?: string;
  mac?: string;
  port?: string;
  server?: string;
  token?: string;
  priority?: string;
  // ovs
  bridge?: string;
  bundle?: boolean;
  // controllers
  controller?: string;
  user?: string;
  password?: string;
  authToken?: string;
  header: string[];
  dpid?: string;
  table?: string;
  device?: string;
  appId?: string;
  node?: string;
  restconf?: string;
  datastore?: string;
  applyMethod?: string;
  applyPath?: string;
  applyBody?: string;
  releaseMethod?: string;
  releasePath?: string;
  releaseBody?: string;
  verifyPath?: string;
  // nftables
  allow: string[];
  dns: string[];
}

const collect = (v: string, prev: string[]) => [...prev, v];

/** Which backend each specific option goes with: one given to another backend is a usage error, not silently ignored. */
const OPTION_BACKENDS: Partial<Record<keyof IsolateOptions, { flag: string; backends: readonly Backend[] }>> =
  {
    bridge: { flag: '--bridge', backends: ['ovs'] },
    controller: { flag: '--controller', backends: ['ryu', 'onos', 'odl', 'http'] },
    user: { flag: '--user', backends: ['ryu', 'onos', 'odl', 'http'] },
    password: { flag: '--password', backends: ['ryu', 'onos', 'odl', 'http'] },
    authToken: { flag: '--auth-token', backends: ['ryu', 'onos', 'odl', 'http'] },
    dpid: { flag: '--dpid', backends: ['ryu'] },
    table: { flag: '--table', backends: ['ryu', 'odl'] },
    device: { flag: '--device', backends: ['onos'] },
    appId: { flag: '--app-id', backends: ['onos'] },
    node: { flag: '--node', backends: ['odl'] },
    restconf: { flag: '--restconf', backends: ['odl'] },
    datastore: { flag: '--datastore', backends: ['odl'] },
    applyMethod: { flag: '--apply-method', backends: ['http'] },
    applyPath: { flag: '--apply-path', backends: ['http'] },
    applyBody: { flag: '--apply-body', backends: ['http'] },
    releaseMethod: { flag: '--release-method', backends: ['http'] },
    releasePath: { flag: '--release-path', backends: ['http'] },
    releaseBody: { flag: '--release-body', backends: ['http'] },
    verifyPath: { flag: '--verify-path', backends: ['http'] },
    priority: { flag: '--priority', backends: ['ovs', 'ryu', 'onos', 'odl'] },
    mac: { flag: '--mac', backends: ['ovs', 'ryu', 'onos', 'odl', 'http'] },
    port: { flag: '--port', backends: ['ovs', 'ryu', 'onos', 'odl', 'http'] },
  };

function addIsolateOptions(cmd: Command, action: 'isolate' | 'release'): Command {
  cmd
    .requiredOption('--backend <name>', `how to isolate: ${BACKENDS.join('|')}`)
    .option('--dry-run', 'print the exact requests or commands and send nothing (exit 0)')
    .option('--mac <mac>', 'also match the host by MAC address (switch backends)')
    .option('--port <n>', 'also match the switch port the host is on (an OpenFlow port number)')
    .option(
      '--retries <n>',
      'extra attempts after a failed or unverified one, with exponential backoff (0..10)',
      '2',
    )
    .option('--timeout <duration>', 'for each request or command, at most 2m', '5s')
    .option('--settle <duration>', "how long to keep reading back after a change (default: the backend's)")
    .option('--server <url>', 'a deminer server that knows TARGET by host name or agent id')
    .option('--token <token>', 'token for --server (default: the DEMINER_TOKEN environment variable)')
    .option('-c, --config <file>', 'config file (default: ~/.deminer/config.yaml when present)');
  if (action === 'isolate')
    cmd
      .option(
        '--ttl <duration>',
        'expiry: through --server the server releases it then; on its own the CLI only records it (at most 30d)',
      )
      .option(
        '--never-isolate <cidr>',
        'also protect this address or prefix (repeatable; adds to the config file and this host’s gateways and DNS servers)',
        collect,
        [],
      );
  return cmd
    .option('--priority <n>', 'OpenFlow priority of the drop rules (ovs, ryu, onos, odl; default 65000)')
    .option('--bridge <name>', 'ovs: the bridge')
    .option('--no-bundle', 'ovs: send flows one by one, not as one OpenFlow 1.4 bundle')
    .option('--controller <url>', 'ryu, onos, odl, http: base URL of the controller')
    .option('--user <name>', 'controller user (onos default onos, odl default admin)')
    .option(
      '--password <password>',
      'controller password (default: DEMINER_ONOS_PASSWORD, DEMINER_ODL_PASSWORD or DEMINER_CONTROLLER_PASSWORD; then the vendor default)',
    )
    .option('--auth-token <token>', 'bearer token for the controller (default: DEMINER_CONTROLLER_TOKEN)')
    .option('--header <line>', "extra request header 'Name: value' (repeatable)", collect, [])
    .option('--dpid <id>', 'ryu: datapath id of the switch')
    .option('--table <n>', 'ryu, odl: flow table (default 0)')
    .option('--device <id>', 'onos: device id, e.g. of:0000000000000001')
    .option('--app-id <name>', 'onos: application id of the rules (default org.deminer.isolate)')
    .option('--node <id>', 'odl: node id, e.g. openflow:1')
    .option('--restconf <api>', 'odl: restconf (/restconf/…) or rfc8040 (/rests/data/…)', undefined)
    .option(
      '--datastore <name>',
      'odl: where the read-back looks: operational (the switch) or config',
      undefined,
    )
    .option('--apply-method <m>', 'http: method of the install request (default POST)')
    .option('--apply-path <path>', 'http: path of the install request (default /api/v1/flow-rules)')
    .option(
      '--apply-body <json>',
      'http: JSON body with {{ip}}, {{prefix}}, {{mac}}, {{port}}, {{family}} placeholders',
    )
    .option('--release-method <m>', 'http: method of the removal request (default DELETE)')
    .option('--release-path <path>', 'http: path of the removal request (default: the install path)')
    .option(
      '--release-body <json>',
      "http: body of the removal request (default: the install body; '' for none)",
    )
    .option('--verify-path <path>', 'http: GET path listing the installed rules (default: the install path)')
    .option(
      '--allow <addr>',
      'nftables: address or prefix that stays reachable: the deminer server (repeatable)',
      collect,
      [],
    )
    .option(
      '--dns <addr>',
      'nftables: DNS server that stays reachable (repeatable; default: resolv.conf)',
      collect,
      [],
    );
}

export const registerIsolate: RegisterCommand = (program, run) => {
  for (const action of ['isolate', 'release'] as const) {
    const cmd = program
      .command(`${action} <target>`)
      .description(
        action === 'isolate'
          ? 'Cut a host off the network (switch, SDN controller or this host’s firewall); exit 0 only when the rules are read back in place'
          : 'Undo an isolation; exit 0 only when the rules are read back gone',
      );
    addIsolateOptions(cmd, action);
    addOutputOptions(cmd, FORMATS, 'text');
    cmd.action(run((target: string, opts: IsolateOptions) => isolateCommand(action, target, opts)));
  }
};

function intOption(text: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]{1,10}$/.test(text.trim()) || Number(text) < min || Number(text) > max)
    throw new UsageError(
      'BAD_OPTION',
      `${flag} must be a whole number from ${min} to ${max} (got ${shown(text)})`,
      {
        location: flag,
      },
    );
  return Number(text);
}

function need<T>(value: T | undefined, flag: string, backend: string): T {
  if (value === undefined || value === '')
    throw new UsageError('BAD_OPTION', `--backend ${backend} needs ${flag}`, { location: flag });
  return value;
}

/** Credentials: option, then the vendor's environment variable, then the generic one, then the vendor's documented default. */
function controllerAuth(opts: IsolateOptions, backend: Backend): ControllerAuth {
  const envPassword =
    (backend === 'onos' ? process.env['DEMINER_ONOS_PASSWORD'] : undefined) ??
    (backend === 'odl' ? process.env['DEMINER_ODL_PASSWORD'] : undefined) ??
    process.env['DEMINER_CONTROLLER_PASSWORD'];
  const token = opts.authToken ?? process.env['DEMINER_CONTROLLER_TOKEN'];
  const defaults: Partial<Record<Backend, [string, string]>> = {
    onos: ['onos', 'rocks'],
    odl: ['admin', 'admin'],
  };
  const parts: ControllerAuth[] = [];
  if (token !== undefined && token !== '') parts.push(bearerAuth(token));
  else {
    const user = opts.user ?? defaults[backend]?.[0];
    const password = opts.password ?? envPassword ?? defaults[backend]?.[1];
    if (user !== undefined && password !== undefined) parts.push(basicAuth(user, password));
    else if (opts.user !== undefined)
      throw new UsageError('BAD_OPTION', '--user needs --password or DEMINER_CONTROLLER_PASSWORD', {
        location: '--password',
      });
  }
  parts.push(headersAuth(opts.header));
  return mergeAuth(...parts);
}

function makeBackend(backend: Backend, opts: IsolateOptions): IsolationBackend {
  const priority = intOption(opts.priority, '--priority', 1, 65535);
  const prio = priority !== undefined ? { priority } : {};
  const table = opts.table !== undefined ? { table: intOption(opts.table, '--table', 0, 254)! } : {};
  const controller = () => parseControllerUrl(need(opts.controller, '--controller', backend));
  switch (backend) {
    case 'ovs':
      return createBackend({
        backend,
        bridge: need(opts.bridge, '--bridge', backend),
        ...prio,
        bundle: opts.bundle !== false,
      });
    case 'nftables':
      return createBackend({
        backend,
        allow: opts.allow,
        dns: opts.dns.length > 0 ? opts.dns : systemResolvers(),
      });
    case 'ryu':
      return createBackend({
        backend,
        controller: controller(),
        dpid: parseDpid(need(opts.dpid, '--dpid', backend)),
        ...table,
        ...prio,
        auth: controllerAuth(opts, backend),
      });
    case 'onos':
      return createBackend({
        backend,
        controller: controller(),
        device: need(opts.device, '--device', backend),
        ...(opts.appId !== undefined ? { appId: opts.appId } : {}),
        ...prio,
        auth: controllerAuth(opts, backend),
      });
    case 'odl':
      return createBackend({
        backend,
        controller: controller(),
        node: need(opts.node, '--node', backend),
        ...table,
        ...prio,
        api: parseChoice(opts.restconf ?? 'restconf', ['restconf', 'rfc8040'] as const, '--restconf'),
        datastore: parseChoice(
          opts.datastore ?? 'operational',
          ['operational', 'config'] as const,
          '--datastore',
        ),
        auth: controllerAuth(opts, backend),
      });
    case 'http':
      return createBackend({
        backend,
        controller: controller(),
        auth: controllerAuth(opts, backend),
        ...httpTemplates(opts),
      });
  }
}

/** Options given for another backend are refused: a typo must not become a silently different isolation. */
function checkBackendOptions(backend: Backend, opts: IsolateOptions): void {
  for (const [key, rule] of Object.entries(OPTION_BACKENDS)) {
    const value = opts[key as keyof IsolateOptions];
    if (value === undefined || !rule) continue;
    if (!rule.backends.includes(backend))
      throw new UsageError('BAD_OPTION', `${rule.flag} goes with --backend ${rule.backends.join('|')}`, {
        location: rule.flag,
      });
  }
  const lists: [keyof IsolateOptions, string, readonly Backend[]][] = [
    ['header', '--header', ['ryu', 'onos', 'odl', 'http']],
    ['allow', '--allow', ['nftables']],
    ['dns', '--dns', ['nftables']],
  ];
  for (const [key, flag, backends] of lists) {
    const v = opts[key];
    if (Array.isArray(v) && v.length > 0 && !backends.includes(backend))
      throw new UsageError('BAD_OPTION', `${flag} goes with --backend ${backends.join('|')}`, {
        location: flag,
      });
  }
  if (opts.bundle === false && backend !== 'ovs')
    throw new UsageError('BAD_OPTION', '--no-bundle goes with --backend ovs', { location: '--no-bundle' });
}

/** Config file entries, `--never-isolate`, this host's gateways and DNS servers, and the deminer server. */
function neverIsolate(opts: IsolateOptions): ProtectedEntry[] {
  const file = opts.config ?? defaultConfigPath();
  const cfg = loadDeminerConfig(opts.config).respond;
  const out: ProtectedEntry[] = [];
  for (const [i, e] of (cfg.never_isolate ?? []).entries()) {
    const text = typeof e === 'string' ? e : e.cidr;
    const why = typeof e === 'string' || !e.reason ? '' : ` "${e.reason}"`;
    out.push(protectedEntry(text, `${file} respond.never_isolate[${i}]${why}`));
  }
  for (const text of opts.neverIsolate ?? []) out.push(protectedEntry(text, '--never-isolate'));
  out.push(...localInfrastructure());
  if (opts.server) {
    try {
      const host = new URL(opts.server).hostname.replace(/^\[|\]$/g, '');
      const cidr = canonicalCidr(host);
      if (cidr) out.push({ cidr, source: 'the deminer server (--server)' });
    } catch {
      // --server is checked where it is used.
    }
  }
  return out;
}

async function resolveTarget(
  text: string,
  opts: IsolateOptions,
  timeoutMs: number,
): Promise<IsolationTarget> {
  const extra = {
    ...(opts.mac !== undefined ? { mac: opts.mac } : {}),
    ...(opts.port !== undefined ? { port: opts.port } : {}),
  };
  if (canonicalAddress(text.trim()) || opts.server === undefined) return parseTarget(text, extra);
  const server = parseControllerUrl(opts.server, '--server');
  const token = opts.token ?? process.env['DEMINER_TOKEN'];
  if (!token)
    throw new UsageError(
      'BAD_OPTION',
      '--server needs a token: --token T or the DEMINER_TOKEN environment variable',
      {
        location: '--token',
      },
    );
  return parseTarget(await resolveHostTarget(text, { server, token, timeoutMs }), extra);
}

async function isolateCommand(
  action: 'isolate' | 'release',
  text: string,
  opts: IsolateOptions,
): Promise<number> {
  const format = parseChoice(opts.format, FORMATS, '--format');
  const backendName = parseChoice(opts.backend, BACKENDS, '--backend');
  checkBackendOptions(backendName, opts);
  if (opts.token !== undefined && opts.server === undefined)
    throw new UsageError('BAD_OPTION', '--token goes with --server', { location: '--token' });
  const retries = intOption(opts.retries, '--retries', 0, 10)!;
  const timeoutMs = parseDuration(opts.timeout, '--timeout', { max: 120_000 });
  if (timeoutMs < 1)
    throw new UsageError('BAD_DURATION', '--timeout must be above 0', { location: '--timeout' });
  const settleMs =
    opts.settle !== undefined ? parseDuration(opts.settle, '--settle', { max: 300_000 }) : undefined;
  const ttlMs = opts.ttl !== undefined ? parseDuration(opts.ttl, '--ttl') : undefined;
  if (ttlMs !== undefined && ttlMs < 1000)
    throw new UsageError('BAD_DURATION', '--ttl must be at least 1s', { location: '--ttl' });
  if (backendName === 'nftables' && opts.server !== undefined)
    return agentCommand(action, text, opts, format, timeoutMs, ttlMs);
  const protect = action === 'isolate' ? neverIsolate(opts) : [];
  const backend = makeBackend(backendName, opts);
  const target = await resolveTarget(text, opts, timeoutMs);
  if (backendName === 'nftables') checkLocal(target);

  const result = await runIsolation(action, backend, target, {
    retries,
    backoffMs: 250,
    timeoutMs,
    ...(settleMs !== undefined ? { settleMs } : {}),
    ...(ttlMs !== undefined ? { ttlMs } : {}),
    protect,
    dryRun: opts.dryRun === true,
    onRetry: (attempt, e, wait) => {
      if (!opts.quiet)
        process.stderr.write(
          `deminer: attempt ${attempt} failed (${escapeControls(e.code)}: ${escapeControls(e.message)}); retrying in ${wait} ms\n`,
        );
    },
  });
  return withResultOut(opts, async (out) => {
    if (format === 'json') out.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      // Line by line: the plan's own line breaks stay, any other control character is shown escaped.
      const text = result.dry_run ? planText(result) : resultLine(result);
      out.write(text.split('\n').map(escapeControls).join('\n'));
    }
    if (!result.ok && result.error)
      process.stderr.write(
        `deminer: ${escapeControls(result.error.code)}: ${escapeControls(result.error.message)}\n`,
      );
    return result.ok ? EXIT.OK : EXIT.FINDINGS;
  });
}

/**
 * `--backend nftables --server URL`: another machine's own firewall, through
 * the server and that machine's agent (backend agent-nftables). The server
 * checks the never-isolate list and the role; this waits for the agent's
 * read-back, so exit 0 still means verified.
 */
async function agentCommand(
  action: 'isolate' | 'release',
  text: string,
  opts: IsolateOptions,
  format: (typeof FORMATS)[number],
  timeoutMs: number,
  ttlMs: number | undefined,
): Promise<number> {
  if (opts.allow.length > 0 || opts.dns.length > 0)
    throw new UsageError(
      'BAD_OPTION',
      'through --server, the server decides what stays reachable (its own address, DNS, DHCP): drop --allow/--dns',
      { location: opts.allow.length > 0 ? '--allow' : '--dns' },
    );
  const server = parseControllerUrl(opts.server!, '--server');
  const token = opts.token ?? process.env['DEMINER_TOKEN'];
  if (!token)
    throw new UsageError(
      'BAD_OPTION',
      '--server needs a token: --token T or the DEMINER_TOKEN environment variable',
      {
        location: '--token',
      },
    );
  const waitMs =
    opts.settle !== undefined ? parseDuration(opts.settle, '--settle', { max: 600_000 }) : 60_000;
  const result = await throughServer(action, text.trim(), {
    server,
    token,
    timeoutMs,
    waitMs,
    ...(ttlMs !== undefined ? { ttlS: Math.round(ttlMs / 1000) } : {}),
    dryRun: opts.dryRun === true,
  });
  return withResultOut(opts, async (out) => {
    if (format === 'json') out.write(`${JSON.stringify(result, null, 2)}\n`);
    else out.write(throughServerLine(result).split('\n').map(escapeControls).join('\n'));
    if (!result.ok && result.error)
      process.stderr.write(
        `deminer: ${escapeControls(result.error.code)}: ${escapeControls(result.error.message)}\n`,
      );
    return result.ok ? EXIT.OK : EXIT.FINDINGS;
  });
}
