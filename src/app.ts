import 'reflect-metadata';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import cors from 'cors';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import Redis from 'ioredis';
import type { DataSource } from 'typeorm';
import { Authenticator } from './auth/authenticator';
import type { Config } from './config';
import type { Credentials } from './credentials/credentials';
import { createContextFactory, type RequestContext } from './context';
import type { DatabaseAvailability } from './db/availability';
import { createDataSource, migrate } from './db/data-source';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded-postgres';
import { transactionCollision } from './db/errors';
import type { QueryCounter } from './db/query-counter';
import { conflict, createFormatError, DomainError, ErrorCode, translatedErrorStatus } from './errors';
import { HttpDrain } from './http-drain';
import { ExpiryNotifier } from './modules/api-tokens/expiry-notifier';
import { Jwts } from './modules/personal-access-tokens/jwts';
import { loadKeySet, SigningKeyReloader } from './modules/personal-access-tokens/signing-keys';
import { tokenEndpoints } from './modules/personal-access-tokens/token-endpoints';
import type { Logger } from './logger';
import { graphiql } from './graphiql';
import { graphqlLimits } from './hardening';
import { accessLog } from './observability/access-log';
import { Metrics } from './observability/metrics';
import { startMetricsServer, type MetricsServer } from './observability/metrics-server';
import { poolStats } from './observability/pool-stats';
import { probes } from './observability/probes';
import { Readiness } from './observability/readiness';
import { recordingContext, recordingPlugin, recordRequests } from './observability/request-record';
import { createSchema } from './schema';
import { createServices, type Services } from './services';

export type App = {
  express: Express;
  dataSource: DataSource;
  queries: QueryCounter;
  services: Services;
  authenticator: Authenticator;
  notifier: ExpiryNotifier;
  metrics: Metrics;
  /** Where the Prometheus listener listens; null when METRICS_PORT is 0. */
  metricsAddress: AddressInfo | null;
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
    const unavailable =
      error instanceof DomainError && error.code === ErrorCode.SERVICE_UNAVAILABLE ? error : availability.answerFor(error);
    if (unavailable) {
      // The GraphQL error shape, and SimpleJWT's `detail`/`code` beside it for the REST token endpoints' clients.
      res
        .status(503)
        .set('retry-after', String(unavailable.details.retryAfter))
        .json({
          detail: unavailable.message,
          code: 'service_unavailable',
          errors: [{ message: unavailable.message, extensions: { code: unavailable.code, ...unavailable.details } }],
        });
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

/** Answers of /graphql and /api/token depend on the credential sent: no cache may keep one, errors included. */
const noStore: RequestHandler = (_req, res, next) => {
  res.set('cache-control', 'no-store');
  next();
};

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
  const redis = config.redisUrl
    ? new Redis(config.redisUrl, {
        enableOfflineQueue: false,
        lazyConnect: false,
        // A Redis that accepts the connection but never answers must not hang requests: the limiter's outage rule then applies.
        commandTimeout: 1000,
      })
    : undefined;
  let metricsServer: MetricsServer | undefined;
  let credentials: Credentials | undefined;
  try {
    await dataSource.initialize();
    availability.watch(dataSource);
    const applied = await migrate(dataSource);
    if (applied.length > 0) log.info({ migrations: applied }, 'migrations applied');

    if (!config.jwt.privateKeys && config.nodeEnv === 'production') {
      log.warn('JWT_PRIVATE_KEYS is not set: the JWT signing key is kept in the database, where whoever reads it can sign tokens');
    }
    const jwts = new Jwts(await loadKeySet(dataSource, config.jwt.privateKeys), config.jwt, now);
    // Keys kept in the database may be rotated by `idgraph rotate-signing-key` while the server runs.
    const keyReloader = config.jwt.privateKeys ? undefined : new SigningKeyReloader(dataSource, (keys) => jwts.replaceKeys(keys), config.jwt.keyReloadSeconds, log);
    if (keyReloader) jwts.reloadOnUnknownKid(() => keyReloader.reloadForUnknownKid());
    const services = createServices({ dataSource, config, log, jwts, now, redis });
    credentials = services.credentials;
    const authenticator = new Authenticator(services.credentials, services.rateLimits, config.tokenPrefix);
    const notifier = new ExpiryNotifier(dataSource, services.mailer, { intervalSeconds: config.expiryNotificationIntervalSeconds }, log);
    const metrics = new Metrics({ processMetrics: config.metrics.port !== 0, pool: poolStats(dataSource) });
    metrics.observe({ authenticator, rateLimits: services.rateLimits, tokenUsage: services.tokenUsage, notifier, credentialCache: services.credentials.cache });
    if (config.metrics.port !== 0) {
      try {
        metricsServer = await startMetricsServer(metrics.registry, config.metrics);
        log.info({ host: metricsServer.address.address, port: metricsServer.address.port }, 'Prometheus metrics served at /metrics');
      } catch (error) {
        // Several instances on one machine would all want the default port: only a port the operator chose is worth refusing to start for.
        if (config.metrics.portChosen) throw error;
        log.warn({ reason: (error as Error).message }, 'serving without metrics: set METRICS_PORT to a free port (or 0) to choose');
      }
    }
    // Timers start once nothing left can fail the start, so a failed start leaves none behind.
    await services.credentials.start();
    keyReloader?.start();
    notifier.start();
    const limits = graphqlLimits(config);
    /** What the client is told of a database error: an outage is 503, a collision with a concurrent change CONFLICT (retry). */
    const translateDatabaseError = (error: unknown) => {
      if (transactionCollision(error)) return conflict('the change collided with a concurrent one and was not made: retry it');
      return availability.answerFor(error);
    };
    const apollo = new ApolloServer<RequestContext>({
      schema: (await createSchema()).schema,
      formatError: createFormatError(log, translateDatabaseError),
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
        recordingPlugin(),
        translatedErrorStatus(translateDatabaseError),
      ],
    });
    await apollo.start();

    const app = express();
    app.disable('x-powered-by');
    app.set('trust proxy', config.trustProxy);
    if (drain) app.use(drain.refuseWhileDraining);
    const logRequest = accessLog(log, config.slowRequestMs);
    app.use(
      recordRequests((request) => {
        logRequest(request);
        metrics.observeRequest(request);
      }),
    );
    const home = homePage(config.graphiql);
    app.get('/', (_req, res) => {
      res.type('html').send(home);
    });
    if (config.graphiql) app.use(graphiql());
    app.use(probes(new Readiness(dataSource, () => jwts.jwks.keys.length > 0, log)));
    app.get('/.well-known/jwks.json', (_req, res) => {
      res.set('cache-control', 'public, max-age=300, stale-while-revalidate=60').json(jwts.jwks);
    });
    app.use(['/api/token', '/graphql'], noStore);
    app.use('/api/token', express.json({ limit: '16kb' }), tokenEndpoints(services.personalAccessTokens, services.rateLimits));
    app.use(
      '/graphql',
      // Only listed origins, each echoed back, never `*`: browsers then send cookies only to those.
      cors({ origin: config.corsOrigins, credentials: true, maxAge: 600 }),
      express.json({ limit: '100kb' }),
      expressMiddleware(apollo, {
        context: recordingContext(
          createContextFactory({ dataSource, services, authenticator, log, availability, production: config.nodeEnv === 'production' }),
          config.tokenPrefix,
        ),
      }),
    );

    app.use((_req, res) => {
      res.status(404).set('cache-control', 'no-store').json({ errors: [{ message: 'not found', extensions: { code: 'NOT_FOUND' } }] });
    });
    app.use(httpErrorHandler(log, availability));

    return {
      express: app,
      dataSource,
      queries,
      services,
      authenticator,
      notifier,
      metrics,
      metricsAddress: metricsServer?.address ?? null,
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
        await step('background jobs', async () => {
          services.rateLimits.stop();
          keyReloader?.stop();
          await notifier.stop();
          await services.mailer.close();
        });
        await step('http', async () => {
          const { cutOff } = (await drain?.drain(deadline)) ?? { cutOff: 0 };
          if (cutOff > 0) log.warn({ requests: cutOff }, 'requests still running at the shutdown deadline were cut off');
        });
        await step('graphql', () => apollo.stop());
        await step('credential cache', () => services.credentials.stop());
        await step('token usage', () => services.tokenUsage.stop());
        await step('database pool', () => dataSource.destroy());
        await step('metrics', async () => metricsServer?.close());
        redis?.disconnect();
        await step('embedded postgres', async () => embedded?.stop());
      },
    };
  } catch (error) {
    await credentials?.stop();
    await metricsServer?.close();
    if (dataSource.isInitialized) await dataSource.destroy();
    redis?.disconnect();
    await embedded?.stop();
    throw error;
  }
}
