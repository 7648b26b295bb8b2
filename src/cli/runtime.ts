import { existsSync } from 'node:fs';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { ConfigError, loadConfig, type Config } from '../config';
import { dataSourceOptions } from '../db/data-source';
import { embeddedLayout, openEmbeddedPostgres } from '../db/embedded-postgres';
import { DomainError, ErrorCode } from '../errors';

/** 0: done. 1: refused, failed, or a check found a problem. 2: the command line or a value given on it is invalid. */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2 } as const;

/** A failure with a message written for the operator: printed as one line, never with a stack. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.FAILED,
    readonly code: string = 'FAILED',
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** How any error a command throws reaches the operator: a code, a one-line message and an exit code. */
export function describeFailure(error: unknown): { code: string; message: string; exitCode: number } {
  if (error instanceof CliError) return { code: error.code, message: error.message, exitCode: error.exitCode };
  if (error instanceof DomainError) {
    return { code: error.code, message: error.message, exitCode: error.code === ErrorCode.BAD_USER_INPUT ? EXIT.USAGE : EXIT.FAILED };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'FAILED', message: message.split('\n')[0] || 'failed', exitCode: EXIT.FAILED };
}

/** The server's configuration, read from the same environment. */
export function configFromEnvironment(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(`invalid configuration: ${error.problems.join('; ')}`, EXIT.FAILED, 'CONFIGURATION');
    throw error;
  }
}

/** Where a database URL points, without its password. */
export function describeDatabase(url: string): string {
  try {
    const parsed = new URL(url);
    // A `host` parameter names a Unix socket folder, which pg prefers to the URL's host and port.
    const socketFolder = parsed.searchParams.get('host');
    if (socketFolder) return `the socket in ${socketFolder}, database ${parsed.pathname.slice(1)}`;
    return `${parsed.hostname || 'localhost'}${parsed.port ? `:${parsed.port}` : ''}${parsed.pathname}`;
  } catch {
    return 'the configured database';
  }
}

/**
 * DATABASE_URL, or the embedded PostgreSQL of IDGRAPH_DATA_DIR (reached or
 * started for the command's duration). Only `migrate` may make a new install:
 * a mistyped IDGRAPH_DATA_DIR must not become one behind a diagnostic.
 */
export async function openDatabaseUrl(config: Config, options: { create?: boolean } = {}): Promise<{ url: string; close: () => Promise<void> }> {
  if (config.databaseUrl) return { url: config.databaseUrl, close: async () => undefined };
  if (!options.create && !existsSync(path.join(embeddedLayout(config.dataDir).clusterDir, 'PG_VERSION'))) {
    throw new CliError(
      `no idgraph install in ${path.resolve(config.dataDir)} (IDGRAPH_DATA_DIR): start the server once or run \`idgraph migrate\` there, or set DATABASE_URL`,
      EXIT.FAILED,
      'NO_INSTALL',
    );
  }
  try {
    const embedded = await openEmbeddedPostgres(config.dataDir, 'idgraph');
    return { url: embedded.url, close: embedded.stop };
  } catch (error) {
    throw new CliError(`cannot open the embedded PostgreSQL in ${config.dataDir}: ${describeFailure(error).message}`, EXIT.FAILED, 'DATABASE');
  }
}

/** A small pool that gives up quickly: a command waits seconds for an unreachable database, not minutes. */
export function cliDataSource(url: string): DataSource {
  const options = dataSourceOptions(url);
  return new DataSource({
    ...options,
    extra: { ...(options as { extra?: Record<string, unknown> }).extra, max: 2, connectionTimeoutMillis: 10_000, application_name: 'idgraph-cli' },
  } as typeof options);
}

/** Runs `work` with an initialised DataSource, and closes everything after, whatever happens. */
export async function withDatabase<T>(config: Config, work: (dataSource: DataSource) => Promise<T>, options: { create?: boolean } = {}): Promise<T> {
  const database = await openDatabaseUrl(config, options);
  const dataSource = cliDataSource(database.url);
  try {
    try {
      await dataSource.initialize();
    } catch (error) {
      throw new CliError(`cannot reach the database at ${describeDatabase(database.url)}: ${describeFailure(error).message}`, EXIT.FAILED, 'DATABASE');
    }
    return await work(dataSource);
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await database.close();
  }
}

/** What a command prints: text for people, or one JSON document with --json. */
export type Output = { json: boolean; write(text: string): void };

export function output(json: boolean): Output {
  return { json, write: (text) => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`) };
}

export function printJson(out: Output, value: unknown): void {
  out.write(JSON.stringify(value));
}
