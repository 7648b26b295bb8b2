import type { Command } from 'commander';
import { migrate, pendingMigrations } from '../../db/data-source';
import { configFromEnvironment, EXIT, output, printJson, withDatabase } from '../runtime';

type Options = { check?: boolean; json?: boolean };

/** `idgraph migrate [--check]`: applies what is pending under the advisory lock the server takes, or only lists it. */
export async function runMigrate(options: Options): Promise<number> {
  const out = output(Boolean(options.json));
  const config = configFromEnvironment();
  return withDatabase(config, async (dataSource) => {
    if (options.check) {
      const pending = await pendingMigrations(dataSource);
      if (out.json) printJson(out, { pending });
      else out.write(pending.length === 0 ? 'no pending migrations' : `pending migrations:\n${pending.map((name) => `  ${name}`).join('\n')}`);
      return pending.length === 0 ? EXIT.OK : EXIT.FAILED;
    }
    const applied = await migrate(dataSource);
    if (out.json) printJson(out, { applied });
    else out.write(applied.length === 0 ? 'no pending migrations: nothing applied' : `applied:\n${applied.map((name) => `  ${name}`).join('\n')}`);
    return EXIT.OK;
    // `migrate --check` only looks; `migrate` may set up a new install.
  }, { create: !options.check });
}

export function migrateCommand(program: Command, run: (action: () => Promise<number>) => Promise<void>): void {
  program
    .command('migrate')
    .description('apply pending database migrations (under the lock the server takes at start)')
    .option('--check', 'list pending migrations and change nothing; exit 1 if any are pending')
    .option('--json', 'print JSON: {"applied": [...]} or, with --check, {"pending": [...]}')
    .action((options: Options) => run(() => runMigrate(options)));
}
