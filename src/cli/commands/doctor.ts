import type { Command } from 'commander';
import nodemailer from 'nodemailer';
import type { DataSource } from 'typeorm';
import type { Config } from '../../config';
import { pendingMigrations } from '../../db/data-source';
import { loadKeySet, readDatabaseKeySet } from '../../modules/personal-access-tokens/signing-keys';
import { cliDataSource, configFromEnvironment, describeDatabase, describeFailure, EXIT, openDatabaseUrl, output, printJson } from '../runtime';

type Options = { json?: boolean };

export type Check = { name: string; ok: boolean; detail: string };

const SMTP_TIMEOUT_MS = 5000;

async function check(name: string, run: () => Promise<string>): Promise<Check> {
  try {
    return { name, ok: true, detail: await run() };
  } catch (error) {
    return { name, ok: false, detail: describeFailure(error).message };
  }
}

async function signingKeys(config: Config, dataSource: DataSource): Promise<string> {
  if (config.jwt.privateKeys) {
    const keys = await loadKeySet(dataSource, config.jwt.privateKeys);
    return `${keys.byKid.size} key(s) from JWT_PRIVATE_KEYS; signing with ${keys.signing.kid}`;
  }
  const keys = await readDatabaseKeySet(dataSource);
  if (!keys) return 'none in the database yet: the server makes one at its first start';
  return `${keys.byKid.size} key(s) in the database; signing with ${keys.signing.kid}`;
}

/** A connection and EHLO (and STARTTLS/AUTH as the URL asks), bounded in time; nothing is sent. */
async function smtp(config: Config): Promise<string> {
  if (!config.smtpUrl) return 'SMTP_URL is not set: no mail is sent (expiry notices are skipped)';
  const transport = nodemailer.createTransport({
    url: config.smtpUrl,
    connectionTimeout: SMTP_TIMEOUT_MS,
    greetingTimeout: SMTP_TIMEOUT_MS,
    socketTimeout: SMTP_TIMEOUT_MS,
  });
  try {
    await transport.verify();
    return `the SMTP server at ${describeDatabase(config.smtpUrl)} accepts connections`;
  } finally {
    transport.close();
  }
}

/**
 * `idgraph doctor`: configuration, database, migrations, signing keys and
 * SMTP, each reported; a check that cannot run because an earlier one failed
 * is reported as a problem naming that one.
 */
export async function runDoctor(options: Options): Promise<number> {
  const out = output(Boolean(options.json));
  const checks: Check[] = [];
  let config: Config | undefined;
  checks.push(
    await check('configuration', async () => {
      config = configFromEnvironment();
      return config.databaseUrl ? `DATABASE_URL points at ${describeDatabase(config.databaseUrl)}` : `embedded PostgreSQL in ${config.dataDir}`;
    }),
  );
  if (config) {
    const settings = config;
    let database: { url: string; close: () => Promise<void> } | undefined;
    let dataSource: DataSource | undefined;
    checks.push(
      await check('database', async () => {
        database = await openDatabaseUrl(settings);
        dataSource = cliDataSource(database.url);
        await dataSource.initialize();
        const [row] = (await dataSource.query('SHOW server_version')) as { server_version: string }[];
        return `reachable at ${describeDatabase(database.url)} (PostgreSQL ${row?.server_version ?? 'unknown version'})`;
      }),
    );
    const reachable = dataSource?.isInitialized ? dataSource : undefined;
    const needsDatabase = (name: string, run: (db: DataSource) => Promise<string>) =>
      reachable ? check(name, () => run(reachable)) : Promise.resolve({ name, ok: false, detail: 'not checked: the database is unreachable' });
    checks.push(
      await needsDatabase('migrations', async (db) => {
        const pending = await pendingMigrations(db);
        if (pending.length > 0) throw new Error(`${pending.length} pending: ${pending.join(', ')} (run idgraph migrate)`);
        return 'all applied';
      }),
    );
    checks.push(await needsDatabase('signing keys', (db) => signingKeys(settings, db)));
    if (dataSource?.isInitialized) await dataSource.destroy();
    await database?.close().catch(() => undefined);
    checks.push(await check('smtp', () => smtp(settings)));
  }
  const ok = checks.every((item) => item.ok);
  if (out.json) {
    printJson(out, { ok, checks });
  } else {
    const width = Math.max(...checks.map((item) => item.name.length));
    out.write(checks.map((item) => `${item.ok ? 'ok     ' : 'problem'}  ${item.name.padEnd(width)}  ${item.detail}`).join('\n'));
  }
  return ok ? EXIT.OK : EXIT.FAILED;
}

export function doctorCommand(program: Command, run: (action: () => Promise<number>) => Promise<void>): void {
  program
    .command('doctor')
    .description('check configuration, database, migrations, signing keys and SMTP; exit 1 if any has a problem')
    .option('--json', 'print {"ok": boolean, "checks": [{"name", "ok", "detail"}]}')
    .action((options: Options) => run(() => runDoctor(options)));
}
