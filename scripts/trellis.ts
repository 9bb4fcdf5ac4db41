// The admin CLI: `npx trellis <command> [options]` (the package's bin, bin/trellis.js; `npx trellis --help`
// lists them), or `npm run trellis -- <command>`.
// It connects like the server (DATABASE_URL + MIGRATION_DATABASE_URL, or the embedded PostgreSQL of
// TRELLIS_DATA_DIR) and acts through the services, so its writes are checked and logged as events
// like any other. Exit codes: 0 done, 1 failed, 2 wrong arguments.
//
// Only commander loads up front: the server's modules (schema, entities) load when a command needs
// them, so `--help` and argument errors answer at once.
import { Command, CommanderError } from 'commander';
import { UsageError } from './cli/usage-error';

const session = () => import('./cli/session.js');
const admin = () => import('./cli/admin.js');

/** Aligned `label  value` lines on stdout. */
function print(title: string, rows: [string, string][]): void {
  const width = Math.max(...rows.map(([label]) => label.length));
  process.stdout.write([title, ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`)].join('\n') + '\n');
}

const program = new Command('trellis')
  .description('Trellis admin commands. Database: DATABASE_URL and MIGRATION_DATABASE_URL, or the embedded PostgreSQL of TRELLIS_DATA_DIR (./.data).')
  // Set before the commands are added, which inherit them: errors go through the handler below.
  .exitOverride()
  .configureOutput({ outputError: (message, write) => write(`trellis: ${message.replace(/^error: /, '')}`) });

program
  .command('workspace:create')
  .description('create a workspace with its first ADMIN user and an API key (READ, WRITE)')
  .requiredOption('--name <name>', 'the workspace name')
  .requiredOption('--admin-email <email>', "the ADMIN's sign-in email")
  .requiredOption('--admin-name <name>', "the ADMIN's name")
  .option('--password <password>', 'the ADMIN password (at least 10 characters); generated and printed when omitted')
  .action(async (o: { name: string; adminEmail: string; adminName: string; password?: string }) => {
    const task = await (await admin()).createWorkspace(o);
    const w = await (await session()).withAdmin(task);
    print(`Workspace "${o.name.trim()}" created.`, [
      ['workspace id', w.workspaceId],
      ['admin', `${w.email} (user ${w.adminId})`],
      ['password', o.password ? '(as given)' : w.password],
      ['API key', `${w.apiKey} (READ, WRITE; id ${w.apiKeyId}; shown only now)`],
    ]);
  });

program
  .command('apikey:create')
  .description('create an API key in a workspace; its secret is shown once')
  .requiredOption('--workspace <id>', 'the workspace id')
  .requiredOption('--name <name>', 'a name to recognise the key by')
  .requiredOption('--scopes <scopes>', 'READ, WRITE or READ,WRITE')
  .action(async (o: { workspace: string; name: string; scopes: string }) => {
    const task = await (await admin()).createApiKey(o);
    const k = await (await session()).withAdmin(task);
    print(`API key "${o.name.trim()}" created.`, [
      ['id', k.id],
      ['scopes', k.scopes.join(', ')],
      ['secret', `${k.secret} (shown only now)`],
    ]);
  });

program
  .command('apikey:revoke')
  .description('revoke an API key (running servers refuse it within API_KEY_CACHE_MS)')
  .requiredOption('--workspace <id>', 'the workspace id')
  .requiredOption('--id <id>', 'the API key id')
  .action(async (o: { workspace: string; id: string }) => {
    const task = await (await admin()).revokeApiKey(o);
    const k = await (await session()).withAdmin(task);
    print(`API key "${k.name}" revoked.`, [
      ['id', k.id],
      ['revoked at', k.revokedAt.toISOString()],
    ]);
  });

program
  .command('password:reset')
  .description("set a user's password and end their sessions")
  .requiredOption('--workspace <id>', 'the workspace id')
  .requiredOption('--email <email>', "the user's email")
  .option('--password <password>', 'the new password (at least 10 characters); generated and printed when omitted')
  .action(async (o: { workspace: string; email: string; password?: string }) => {
    const task = await (await admin()).resetPassword(o);
    const r = await (await session()).withAdmin(task);
    print(`Password of ${r.email} reset; their sessions are ended.`, [
      ['user id', r.userId],
      ['password', o.password ? '(as given)' : r.password],
    ]);
  });

program
  .command('migrate')
  .description('apply pending migrations (as MIGRATION_DATABASE_URL, or the embedded superuser)')
  .action(async () => {
    const applied = await (await session()).migrate();
    process.stdout.write(
      applied.length ? `Applied ${applied.length} migration(s):\n${applied.map((m) => `  ${m}\n`).join('')}` : 'The database is up to date.\n',
    );
  });

program
  .command('seed:demo')
  .description('create the demo workspace (the Maven CRM sample) unless it exists')
  .action(async () => {
    const { seedDemo } = await admin();
    const d = await (await session()).withAdmin((a, config) => seedDemo({ embedded: config.embedded, dataDir: config.dataDir })(a));
    const rows: [string, string][] = [
      ['workspace id', d.workspaceId],
      ['sign in', d.password ? `${d.email} / ${d.password}` : d.email],
    ];
    if (d.apiKey) rows.push(['API key', d.apiKey]);
    print(d.created ? 'Demo workspace "Demo Company" created.' : 'The demo workspace exists already.', rows);
  });

// import and export talk to the API (TRELLIS_URL, TRELLIS_API_KEY), not to the database: the CLI
// hands its arguments to those scripts unchanged, so their options live in one place. They run in
// this process (a child would pay Node's start again) and load none of the server's modules.
const apiCommands = { import: () => import('./import.js'), export: () => import('./export.js') };
for (const [name, usage] of [
  ['import', '--file <csv> --entity <type> [--match-on EMAIL] [--dry-run] [--mapping <json>] [--date-format DMY]'],
  ['export', '--entity <type> [--format csv|ndjson] [--filter <json>] [--out <file>] [--no-escape-formulas]'],
] as const) {
  program
    .command(name)
    .description(`${name} through the API (scripts/${name}.ts): ${usage}`)
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (_options, command: Command) => {
      try {
        await (await apiCommands[name]()).main(command.args);
      } catch (err) {
        process.stderr.write(`trellis ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = 1;
      }
    });
}

/** The exit code of a failure, after printing it on one line. */
async function failure(err: unknown): Promise<number> {
  // Commander has printed its own message (unknown command, missing option); help exits 0.
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  const say = (message: string) => process.stderr.write(`trellis: ${message}\n`);
  if (err instanceof UsageError) {
    say(err.message);
    return 2;
  }
  const known = (await session()).describeFailure(err);
  say(known?.message ?? (err instanceof Error ? err.message : String(err)));
  return known?.usage ? 2 : 1;
}

program.parseAsync(process.argv).then(
  () => process.exit(process.exitCode ?? 0),
  async (err: unknown) => process.exit(await failure(err)),
);
