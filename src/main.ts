import 'reflect-metadata';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './logger';
import { stopOnSignals } from './shutdown';
import { describeStartFailure } from './start-failure';

/** The URL to print: `localhost` when listening on every interface, the real port when PORT=0. */
function listeningUrl(host: string, address: AddressInfo): string {
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${address.port}/graphql`;
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const log = createLogger(config.logLevel);
  const httpServer = createServer();
  const app = await createApp(config, log, { httpServer });
  httpServer.on('request', app.handler);
  try {
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(config.port, config.host, () => {
        httpServer.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    // The port is taken or refused: stop what createApp started (the embedded PostgreSQL above all) before saying so.
    await app.close().catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new Error(`cannot listen on ${config.host}:${config.port} (HOST, PORT): ${code}`);
  }
  // Before the line that tells the world the server is up: a signal sent on reading it must find the handlers.
  stopOnSignals(app, log, config.shutdownTimeoutSeconds);
  const address = httpServer.address() as AddressInfo;
  log.info({ url: listeningUrl(config.host, address), port: address.port }, 'idgraph is listening');
}

main().catch((error: unknown) => {
  process.stderr.write(`idgraph failed to start: ${describeStartFailure(error)}\n`);
  process.exit(1);
});
