import 'reflect-metadata';
import { createServer } from 'node:http';
import { createApp } from './app';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './logger';
import { describeStartFailure } from './start-failure';

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
  log.info({ url: `http://localhost:${config.port}/graphql` }, 'idgraph is listening');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    await app.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`idgraph failed to start: ${describeStartFailure(error)}\n`);
  process.exit(1);
});
