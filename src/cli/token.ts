import { DeminerError, UsageError } from '../core/errors.ts';
import { ROLES, type Role } from '../store/types.ts';
import { EXIT, parseChoice, type RegisterCommand } from './command.ts';
import { storeLocation } from './serve.ts';

interface CreateOptions {
  role: string;
  name?: string;
  data?: string;
  database?: string;
}

/** Roles a token made here may have: agent tokens come from enrolment, bound to their host. */
const CLI_ROLES = ROLES.filter((r): r is Exclude<Role, 'agent'> => r !== 'agent');

export const registerToken: RegisterCommand = (program, run) => {
  const token = program.command('token').description('Manage API tokens of the deminer server.');
  token
    .command('create')
    .description(
      'Create a bearer token and print only it on stdout. Opens the store directly: works whether the server runs or not.',
    )
    .requiredOption('--role <role>', `one of ${CLI_ROLES.join(', ')} (agents enrol instead)`)
    .option('--name <name>', 'who or what holds it', 'cli')
    .option('--data <dir>', 'folder of the embedded database (as given to serve)')
    .option('--database <url>', 'PostgreSQL URL (as given to serve)')
    .action(run((opts: CreateOptions) => createCommand(opts)));
};

async function createCommand(opts: CreateOptions): Promise<number> {
  const role = parseChoice(opts.role, CLI_ROLES, '--role');
  const name = (opts.name ?? 'cli').trim();
  if (name === '' || name.length > 200)
    throw new UsageError('BAD_OPTION', '--name must be 1 to 200 characters');
  const where = await storeLocation(opts);
  const { openStore } = await import('../store/index.ts');
  const store = await openStore(where).catch((e: unknown) => {
    throw new DeminerError(
      'TOKEN_STORE',
      `cannot open the store: ${e instanceof Error ? e.message : String(e)}`,
      {
        cause: e,
      },
    );
  });
  try {
    const { token, record } = await store.createToken({ role, name });
    await store.audit({
      at: new Date().toISOString(),
      actor: 'cli',
      action: 'tokens.create',
      target: record.id,
      outcome: 'ok',
      detail: { role, name },
    });
    process.stdout.write(`${token}\n`);
  } finally {
    await store.close();
  }
  return EXIT.OK;
}
