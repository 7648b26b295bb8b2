import 'reflect-metadata';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './logger';
import { stopOnSignals } from './shutdown';

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
  httpServer.on('request', app.express);
  await new Promise<void>((resolve) => httpServer.listen(config.port, config.host, resolve));
  // Before the line that tells the world the server is up: a signal sent on reading it must find the handlers.
  stopOnSignals(app, log, config.shutdownTimeoutSeconds);
  const address = httpServer.address() as AddressInfo;
  log.info({ url: listeningUrl(config.host, address), port: address.port }, 'idgraph is listening');
}

main().catch((error: unknown) => {
  process.stderr.write(`idgraph failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
