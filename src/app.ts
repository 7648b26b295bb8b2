import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import cors from 'cors';
import express, { type ErrorRequestHandler, type Express } from 'express';
import Redis from 'ioredis';
import type { DataSource } from 'typeorm';
import { Authenticator } from './auth/authenticator';
import type { Config } from './config';
import { createContextFactory, type RequestContext } from './context';
import type { DatabaseAvailability } from './db/availability';
import { createDataSource, migrate } from './db/data-source';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded-postgres';
import type { QueryCounter } from './db/query-counter';
import { createFormatError, translatedErrorStatus } from './errors';
import { HttpDrain } from './http-drain';
import { ExpiryNotifier } from './modules/api-tokens/expiry-notifier';
import { Jwts } from './modules/personal-access-tokens/jwts';
import { loadKeySet } from './modules/personal-access-tokens/signing-keys';
import { tokenEndpoints } from './modules/personal-access-tokens/token-endpoints';
import type { Logger } from './logger';
import { graphiql } from './graphiql';
import { graphqlLimits } from './hardening';
import { createSchema } from './schema';
import { createServices, type Services } from './services';

export type App = {
  express: Express;
  dataSource: DataSource;
  queries: QueryCounter;
  services: Services;
  authenticator: Authenticator;
  notifier: ExpiryNotifier;
  /**
   * Stops in order: the background jobs; the HTTP server (no new connections,
   * idle ones closed, requests in flight finish until SHUTDOWN_TIMEOUT_SECONDS
   * or `cutShort` aborts, then are cut off); GraphQL; writes the gathered token
   * usage; closes the pool; stops the embedded PostgreSQL if one was started.
   * A step that fails is logged and the next ones still run.
   */
  close(options?: { cutShort?: AbortSignal }): Promise<void>;
};

function homePage(withGraphiql: boolean): string {
  const ide = withGraphiql ? '<p>Explore it in <a href="/graphiql">GraphiQL</a>.</p>' : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>idgraph</title></head>
<body><h1>idgraph</h1><p>A GraphQL identity API. Send GraphQL requests to <code>POST /graphql</code>.</p>${ide}</body></html>`;
}

/**
 * Errors raised before GraphQL runs (a body that is not JSON, too large, of a
 * wrong type) answered in the GraphQL error shape, never Express's HTML page
 * with its stack trace.
 */
function httpErrorHandler(log: Logger, availability: DatabaseAvailability): ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    if (res.headersSent) return next(error);
    const unavailable = availability.answerFor(error);
    if (unavailable) {
      res
        .status(503)
        .set('retry-after', String(unavailable.details.retryAfter))
        .json({ errors: [{ message: unavailable.message, extensions: { code: unavailable.code, ...unavailable.details } }] });
      return;
    }
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const message = (error as { expose?: boolean; message?: string }).expose ? (error as Error).message : 'bad request';
      res.status(status).json({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] });
      return;
    }
    log.error({ err: error instanceof Error ? { message: error.message, stack: error.stack } : String(error) }, 'internal error');
    res.status(500).json({ errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
  };
}

/** The whole application without `listen`: tests and main.ts both start it this way. */
export async function createApp(config: Config, log: Logger, options: { httpServer?: Server; now?: () => Date } = {}): Promise<App> {
  const now = options.now ?? (() => new Date());
  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres(config.dataDir, 'idgraph', log);
    databaseUrl = embedded.url;
    log.info({ dataDir: config.dataDir }, 'using the embedded PostgreSQL');
  }
  const { dataSource, queries, availability } = createDataSource(databaseUrl, log, config.databaseTimeouts);
  const drain = options.httpServer ? new HttpDrain(options.httpServer) : undefined;
  const redis = config.redisUrl ? new Redis(config.redisUrl, { enableOfflineQueue: false, lazyConnect: false }) : undefined;
  try {
    await dataSource.initialize();
    availability.watch(dataSource);
    const applied = await migrate(dataSource);
    if (applied.length > 0) log.info({ migrations: applied }, 'migrations applied');

    if (!config.jwt.privateKeys && config.nodeEnv === 'production') {
      log.warn('JWT_PRIVATE_KEYS is not set: the JWT signing key is kept in the database, where whoever reads it can sign tokens');
    }
    const jwts = new Jwts(await loadKeySet(dataSource, config.jwt.privateKeys), config.jwt, now);
    const services = createServices({ dataSource, config, log, jwts, now, redis });
    const authenticator = new Authenticator(services.users, services.sessions, services.rateLimits, config.tokenPrefix, {
      prefixed: (token, origin) => services.apiTokens.verify(token, origin),
      jwt: (token) => services.personalAccessTokens.authenticate(token),
    });
    const notifier = new ExpiryNotifier(
      dataSource,
      { smtpUrl: config.smtpUrl, from: config.smtpFrom, intervalSeconds: config.expiryNotificationIntervalSeconds },
      log,
    );
    notifier.start();
    const limits = graphqlLimits(config);
    const apollo = new ApolloServer<RequestContext>({
      schema: (await createSchema()).schema,
      formatError: createFormatError(log, (error) => availability.answerFor(error)),
      // src/shutdown.ts owns the signals. Apollo's own handler raced it: the second, concurrent `stop()`
      // never returned, so the token usage was never written and an idle server took 10 s to exit.
      stopOnTerminationSignals: false,
      includeStacktraceInErrorResponses: false,
      allowBatchedHttpRequests: false,
      introspection: config.introspection,
      validationRules: limits.validationRules,
      parseOptions: { maxTokens: config.graphqlLimits.maxTokens },
      plugins: [
        ...limits.plugins,
        ApolloServerPluginLandingPageDisabled(),
        // Federation's inline traces would hand per-field timings to any client that asks for them.
        ApolloServerPluginInlineTraceDisabled(),
        translatedErrorStatus((error) => availability.answerFor(error)),
      ],
    });
    await apollo.start();

    const app = express();
    app.disable('x-powered-by');
    app.set('trust proxy', config.trustProxy);
    if (drain) app.use(drain.refuseWhileDraining);
    app.use((req, res, next) => {
      const started = process.hrtime.bigint();
      const requestId = randomUUID();
      res.locals.requestId = requestId;
      res.setHeader('x-request-id', requestId);
      res.on('finish', () => {
        log.info(
          {
            requestId,
            method: req.method,
            path: req.originalUrl.split('?')[0],
            status: res.statusCode,
            ms: Number(process.hrtime.bigint() - started) / 1e6,
            operationName: (req.body as { operationName?: unknown } | undefined)?.operationName ?? undefined,
          },
          'request',
        );
      });
      next();
    });
    const home = homePage(config.graphiql);
    app.get('/', (_req, res) => {
      res.type('html').send(home);
    });
    if (config.graphiql) app.use(graphiql());
    app.get('/healthz', (_req, res) => {
      res.json({ ok: true });
    });
    app.get('/.well-known/jwks.json', (_req, res) => {
      res.set('cache-control', 'public, max-age=300, stale-while-revalidate=60').json(jwts.jwks);
    });
    app.use('/api/token', express.json({ limit: '16kb' }), tokenEndpoints(services.personalAccessTokens, services.rateLimits));
    app.use(
      '/graphql',
      // Only listed origins, each echoed back, never `*`: browsers then send cookies only to those.
      cors({ origin: config.corsOrigins, credentials: true, maxAge: 600 }),
      express.json({ limit: '100kb' }),
      expressMiddleware(apollo, { context: createContextFactory({ dataSource, services, authenticator, log, availability, production: config.nodeEnv === 'production' }) }),
    );

    app.use((_req, res) => {
      res.status(404).json({ errors: [{ message: 'not found', extensions: { code: 'NOT_FOUND' } }] });
    });
    app.use(httpErrorHandler(log, availability));

    return {
      express: app,
      dataSource,
      queries,
      services,
      authenticator,
      notifier,
      async close({ cutShort } = {}) {
        const gracePeriod = AbortSignal.timeout(config.shutdownTimeoutSeconds * 1000);
        const deadline = cutShort ? AbortSignal.any([gracePeriod, cutShort]) : gracePeriod;
        const step = async (name: string, work: () => Promise<unknown>) => {
          try {
            await work();
          } catch (error) {
            log.warn({ step: name, err: error instanceof Error ? error.message : String(error) }, 'shutdown step failed');
          }
        };
        await step('background jobs', () => notifier.stop());
        await step('http', async () => {
          const { cutOff } = (await drain?.drain(deadline)) ?? { cutOff: 0 };
          if (cutOff > 0) log.warn({ requests: cutOff }, 'requests still running at the shutdown deadline were cut off');
        });
        await step('graphql', () => apollo.stop());
        await step('token usage', () => services.tokenUsage.stop());
        await step('database pool', () => dataSource.destroy());
        redis?.disconnect();
        await step('embedded postgres', async () => embedded?.stop());
      },
    };
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy();
    redis?.disconnect();
    await embedded?.stop();
    throw error;
  }
}
