import { Command, CommanderError } from 'commander';
import { packagePath } from '../core/paths.ts';
import { registerAgent } from './agent.ts';
import { EXIT, makeRunner, type RegisterCommand, reportError } from './command.ts';
import { registerDga } from './dga.ts';
import { registerEvtx } from './evtx.ts';
import { registerHunt } from './hunt.ts';
import { registerIntel } from './intel.ts';
import { registerIsolate } from './isolate.ts';
import { registerMetrics } from './metrics.ts';
import { registerScan } from './scan.ts';
import { registerSearch } from './search.ts';
import { registerServe } from './serve.ts';
import { registerSniff } from './sniff.ts';
import { registerToken } from './token.ts';
import { registerUp } from './up.ts';

/**
 * The command registry: one file per command under src/cli/, one line here.
 */
const COMMANDS: RegisterCommand[] = [
  registerScan,
  registerDga,
  registerEvtx,
  registerHunt,
  registerIntel,
  registerSniff,
  registerSearch,
  registerMetrics,
  registerAgent,
  registerServe,
  registerToken,
  registerUp,
  registerIsolate,
];

/**
 * A reader that stops early (`deminer … | head -1`) closes our stdout: the
 * command ends at once and quietly, with exit code 0 (the reader chose to
 * stop; what it read is what it wanted), never with an EPIPE stack trace.
 */
function endQuietlyOnClosedPipe(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') process.exit(EXIT.OK);
    throw e;
  });
}

export async function main(argv: readonly string[]): Promise<number> {
  endQuietlyOnClosedPipe();
  let exitCode: number = EXIT.OK;
  const program = new Command('deminer')
    .description('Find hidden cryptocurrency miners on hosts, in event logs and on the wire.')
    .version(await packageVersion(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });
  const run = makeRunner((code) => {
    exitCode = code;
  });
  for (const register of COMMANDS) register(program, run);
  overrideExit(program.commands);
  try {
    await program.parseAsync([...argv]);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version exit 0; every other commander error is a usage error.
      return e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    return reportError(e);
  }
  return exitCode;
}

function overrideExit(commands: readonly Command[]): void {
  for (const c of commands) {
    c.exitOverride();
    overrideExit(c.commands);
  }
}

async function packageVersion(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(packagePath('package.json'), 'utf8')) as { version: string };
  return pkg.version;
}
