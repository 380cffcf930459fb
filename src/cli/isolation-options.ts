import type { Command } from 'commander';
import { parseDuration } from '../core/config.ts';
import { UsageError } from '../core/errors.ts';
import { SEVERITIES, type Severity } from '../core/severity.ts';
import { protectedEntry } from '../respond/isolate/safety.ts';
import {
  type IsolationSettings,
  isolationSettings,
  neverIsolateEntries,
  type ParsedIsolationConfig,
  parseBackendOption,
  SERVER_BACKENDS,
  serverBackendsSchema,
} from '../respond/isolate/server-config.ts';
import { defaultConfigPath, loadDeminerConfig } from './config-file.ts';

/**
 * The isolation options of `serve` and `up`: the config file's
 * `respond` section (backends, policy, never-isolate list), with the
 * command line on top. Both name the same settings (docs/respond.md).
 */
export interface IsolationCliOptions {
  config?: string;
  isolateBackend: string[];
  neverIsolate: string[];
  autoIsolate?: string;
  autoIsolateRule: string[];
  isolateApproval?: string;
  requireApproval?: boolean;
  isolateTtl?: string;
}

const collect = (v: string, prev: string[]) => [...prev, v];

export function addIsolationOptions(cmd: Command): Command {
  return cmd
    .option(
      '-c, --config <file>',
      'config file (default: ~/.deminer/config.yaml when present); respond: isolation',
    )
    .option(
      '--isolate-backend <spec>',
      `an isolation backend and its options, NAME[:key=value,…] (${SERVER_BACKENDS.join('|')}), e.g. ovs:bridge=br0; repeatable, the first is the default`,
      collect,
      [],
    )
    .option(
      '--never-isolate <cidr>',
      'never isolate this address or prefix (repeatable; adds to the config file)',
      collect,
      [],
    )
    .option(
      '--auto-isolate <severity>',
      `isolate automatically on findings of this severity or above (${SEVERITIES.join('|')})`,
    )
    .option(
      '--auto-isolate-rule <id>',
      'only findings of this rule isolate automatically (repeatable; the confirmatory rules)',
      collect,
      [],
    )
    .option(
      '--isolate-approval <severity>',
      'findings of this severity or above ask for isolation, pending approval',
    )
    .option('--require-approval', 'isolation requests through the API wait for an approval')
    .option(
      '--isolate-ttl <duration>',
      'release isolations after this long unless renewed (e.g. 4h; at most 30d)',
    );
}

function severity(text: string, flag: string): Severity {
  if (!(SEVERITIES as readonly string[]).includes(text))
    throw new UsageError('BAD_OPTION', `${flag} must be one of ${SEVERITIES.join(', ')}`, { location: flag });
  return text as Severity;
}

/** The settings the server runs its responder with; undefined when neither the file nor the options configure any. */
export function serverIsolation(opts: IsolationCliOptions): { settings: IsolationSettings } | undefined {
  const file = opts.config ?? defaultConfigPath();
  const respond = loadDeminerConfig(opts.config).respond;
  const cfg: ParsedIsolationConfig = { ...(respond.isolation ?? {}) };
  if (opts.isolateBackend.length > 0) {
    const backends: Record<string, unknown> = { ...(cfg.backends ?? {}) };
    for (const [i, spec] of opts.isolateBackend.entries()) {
      const { name, options } = parseBackendOption(spec);
      const r = serverBackendsSchema.shape[name].safeParse(options);
      if (!r.success) {
        const issue = r.error.issues[0];
        const key = issue?.path.join('.') || '';
        throw new UsageError(
          'BAD_OPTION',
          `--isolate-backend ${name}: ${key ? `${key}: ` : ''}${issue?.message ?? 'invalid'}`,
          { location: '--isolate-backend' },
        );
      }
      backends[name] = r.data;
      if (i === 0) cfg.backend = name;
    }
    cfg.backends = backends as ParsedIsolationConfig['backends'];
  }
  if (opts.autoIsolate !== undefined)
    cfg.auto = {
      min_severity: severity(opts.autoIsolate, '--auto-isolate'),
      ...(opts.autoIsolateRule.length > 0
        ? { rules: opts.autoIsolateRule }
        : cfg.auto?.rules
          ? { rules: cfg.auto.rules }
          : {}),
    };
  else if (opts.autoIsolateRule.length > 0)
    throw new UsageError('BAD_OPTION', '--auto-isolate-rule goes with --auto-isolate SEVERITY', {
      location: '--auto-isolate-rule',
    });
  if (opts.isolateApproval !== undefined)
    cfg.approval = { min_severity: severity(opts.isolateApproval, '--isolate-approval') };
  if (opts.requireApproval) cfg.require_approval = true;
  if (opts.isolateTtl !== undefined) cfg.ttl = parseDuration(opts.isolateTtl, '--isolate-ttl');
  const never = [
    ...neverIsolateEntries(respond.never_isolate, file),
    ...opts.neverIsolate.map((t) => protectedEntry(t, '--never-isolate')),
  ];
  const configured = Object.keys(cfg).length > 0 || never.length > 0;
  if (!configured) return undefined;
  return { settings: isolationSettings(cfg, never, `${file} respond.isolation`) };
}
