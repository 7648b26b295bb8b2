import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { createApp, type App } from '../../src/app';
import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createTestDatabase } from './database';

export type GraphQLResponse<T = any> = {
  status: number;
  headers: Headers;
  body: { data?: T | null; errors?: { message: string; path?: string[]; extensions?: Record<string, any> }[] };
};

export type TestServer = {
  url: string;
  databaseUrl: string;
  app: App;
  /** Every log line the server wrote, as text. */
  logs: string[];
  gql<T = any>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResponse<T>>;
  close(): Promise<void>;
};

/** Environment for a test server; anything given here wins over the defaults. */
export async function startTestServer(env: Record<string, string> = {}, databaseUrl?: string, options: { now?: () => Date } = {}): Promise<TestServer> {
  const database = databaseUrl ? { url: databaseUrl, drop: async () => undefined } : await createTestDatabase();
  const logs: string[] = [];
  const httpServer: Server = createServer();
  let app: App;
  try {
    const config: Config = loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      LOGIN_RATE_LIMIT: '1000',
      AUTH_FAILURE_RATE_LIMIT: '1000',
      TOKEN_RATE_LIMIT: '1000',
      SIGNUP_RATE_LIMIT: '100000',
      TOKEN_ENDPOINT_RATE_LIMIT: '1000',
      ADD_MEMBER_RATE_LIMIT: '1000',
      INVITATIONS_PER_ADDRESS_LIMIT: '1000',
      INTROSPECTION_RATE_LIMIT: '1000',
      // No Prometheus listener unless a test asks for one: files run in parallel, and each would take the same port.
      METRICS_PORT: '0',
      ...env,
      DATABASE_URL: database.url,
    });
    const log = createLogger(config.logLevel, { write: (line: string) => void logs.push(line) });
    app = await createApp(config, log, { httpServer, now: options.now });
  } catch (error) {
    await database.drop();
    throw error;
  }
  httpServer.on('request', app.handler);
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
  return {
    url,
    app,
    logs,
    databaseUrl: database.url,
    async gql(query, variables, headers = {}) {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, headers: response.headers, body: (await response.json()) as GraphQLResponse['body'] };
    },
    async close() {
      await app.close();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      await database.drop();
    },
  };
}

/** The single error of a response, failing loudly when there is not exactly one. */
export function onlyError(response: GraphQLResponse) {
  const errors = response.body.errors ?? [];
  if (errors.length !== 1) throw new Error(`expected one error, got ${JSON.stringify(response.body)}`);
  return errors[0]!;
}

/** The data of a response, failing loudly on any error. */
export function dataOf<T = any>(response: GraphQLResponse<T>): T {
  if (response.body.errors?.length) throw new Error(`unexpected errors: ${JSON.stringify(response.body.errors)}`);
  return response.body.data as T;
}
