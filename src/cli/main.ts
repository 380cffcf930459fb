import { Command, CommanderError } from 'commander';
import { packagePath } from '../core/paths.ts';
import { EXIT, makeRunner, type RegisterCommand, reportError } from './command.ts';

/**
 * The command registry: one file per command under src/cli/, one line here.
 * Each is loaded only when it runs (or for the overall help): `deminer agent`
 * stays resident on every host, and loading the server, the console's routes,
 * the EVTX parser and the Sigma engine it never uses cost it about 15 MB of
 * memory and a tenth of its start-up time.
 */
const COMMANDS: Readonly<Record<string, () => Promise<RegisterCommand>>> = {
  scan: async () => (await import('./scan.ts')).registerScan,
  dga: async () => (await import('./dga.ts')).registerDga,
  evtx: async () => (await import('./evtx.ts')).registerEvtx,
  hunt: async () => (await import('./hunt.ts')).registerHunt,
  intel: async () => (await import('./intel.ts')).registerIntel,
  sniff: async () => (await import('./sniff.ts')).registerSniff,
  search: async () => (await import('./search.ts')).registerSearch,
  metrics: async () => (await import('./metrics.ts')).registerMetrics,
  agent: async () => (await import('./agent.ts')).registerAgent,
  serve: async () => (await import('./serve.ts')).registerServe,
  token: async () => (await import('./token.ts')).registerToken,
  up: async () => (await import('./up.ts')).registerUp,
  isolate: async () => (await import('./isolate.ts')).registerIsolate,
  report: async () => (await import('./report.ts')).registerReport,
  rules: async () => (await import('./rules.ts')).registerRules,
  audit: async () => (await import('./audit.ts')).registerAudit,
};

/** The commands to load for `argv`: the one it names, else all (for help and "did you mean"). */
async function commandsFor(argv: readonly string[]): Promise<RegisterCommand[]> {
  // The program itself takes no option but --help/--version, so the first word is the command.
  const first = argv.slice(2).find((a) => !a.startsWith('-'));
  // `isolate` registers `release` as well.
  const name = first === 'release' ? 'isolate' : first;
  const one = name !== undefined && Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (one) return [await one()];
  return Promise.all(Object.values(COMMANDS).map((load) => load()));
}

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
  for (const register of await commandsFor(argv)) register(program, run);
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
