import type { Command } from 'commander';
import { ApiClient } from '../agent/client.ts';
import { sendFindings } from '../agent/send-findings.ts';
import { UsageError } from '../core/errors.ts';
import type { Finding } from '../core/finding.ts';
import type { SharedLearnedPool } from '../detect/pool-match/learned-pools.ts';
import { escapeControls } from '../outputs/safe-text.ts';

/**
 * `--server URL --token T` for the commands that find things offline or on
 * the wire (`hunt`, `sniff`): the run's findings also go to the server, as
 * a sensor. The token may come from DEMINER_TOKEN instead, which keeps it
 * out of the process list.
 */
export interface SendCliOptions {
  server?: string;
  token?: string;
  serverPin?: string;
}

export function addSendOptions(cmd: Command): Command {
  return cmd
    .option('--server <url>', 'also send the findings to this deminer server (sensor role)')
    .option('--token <token>', 'sensor token for --server (default: the DEMINER_TOKEN environment variable)')
    .option('--server-pin <sha256>', "with an https --server: the SHA-256 of the server's certificate");
}

/** Refuses half-given options before the run starts, not after an hour of hunting. */
export function checkSendOptions(opts: SendCliOptions): void {
  if (opts.server === undefined) {
    if (opts.token !== undefined || opts.serverPin !== undefined)
      throw new UsageError('BAD_OPTION', '--token and --server-pin go with --server');
    return;
  }
  if (!/^https?:\/\//.test(opts.server))
    throw new UsageError('BAD_OPTION', `--server must be an http:// or https:// URL (got "${opts.server}")`);
  if (!(opts.token ?? process.env['DEMINER_TOKEN']))
    throw new UsageError(
      'BAD_OPTION',
      '--server needs a token: --token T or the DEMINER_TOKEN environment variable',
    );
}

/** Sends the run's findings when `--server` was given; a note on stderr says what the server kept. */
export async function sendIfAsked(
  opts: SendCliOptions & { quiet?: boolean },
  findings: readonly Finding[],
): Promise<void> {
  if (opts.server === undefined) return;
  checkSendOptions(opts);
  const token = (opts.token ?? process.env['DEMINER_TOKEN'])!;
  const r = await sendFindings(findings, {
    server: opts.server,
    token,
    ...(opts.serverPin ? { pinSha256: opts.serverPin } : {}),
    onRetry: (e, ms) => {
      if (!opts.quiet)
        process.stderr.write(
          `deminer: ${escapeControls(e.message)}; retrying in ${Math.round(ms / 1000)} s\n`,
        );
    },
  });
  if (!opts.quiet)
    process.stderr.write(
      `deminer: sent ${findings.length} finding(s) to ${escapeControls(opts.server)}: ${r.stored} new, ${r.duplicates} already known${r.replayed ? `, ${r.replayed} batch(es) already sent before` : ''}\n`,
    );
}

/**
 * With `--server`: the pools the fleet learned (endpoints some host was seen
 * mining to), so that this run knows them from its first packet or record.
 * A server that cannot be asked costs a note, not the run.
 */
export async function learnedPoolsIfAsked(
  opts: SendCliOptions & { quiet?: boolean },
): Promise<SharedLearnedPool[] | undefined> {
  if (opts.server === undefined) return undefined;
  checkSendOptions(opts);
  try {
    const client = new ApiClient({
      server: opts.server,
      token: (opts.token ?? process.env['DEMINER_TOKEN'])!,
      timeoutMs: 10_000,
      userAgent: 'deminer-sensor',
      ...(opts.serverPin ? { pinSha256: opts.serverPin } : {}),
    });
    const pools = await client.learnedPools();
    if (!opts.quiet && pools.length > 0)
      process.stderr.write(
        `deminer: ${pools.length} pool(s) learned by the fleet, from ${escapeControls(opts.server)}\n`,
      );
    return pools;
  } catch (e) {
    if (!opts.quiet)
      process.stderr.write(
        `deminer: could not read the fleet's learned pools from ${escapeControls(opts.server)}: ${escapeControls((e as Error).message)}\n`,
      );
    return undefined;
  }
}
