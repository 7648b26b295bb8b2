import 'reflect-metadata';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { fastifyApolloHandler } from '@as-integrations/fastify';
import cors from '@fastify/cors';
import Fastify, { type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
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
import { readJsonOnly, RequestError } from './http-body';
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
  /** Answers one HTTP request: `httpServer.on('request', app.handler)`. */
  handler: (request: IncomingMessage, response: ServerResponse) => void;
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

/** What /graphql reads of a body, and what /api/token reads. */
const GRAPHQL_BODY_LIMIT = 100 * 1024;
const TOKEN_ENDPOINT_BODY_LIMIT = 16 * 1024;

/**
 * Errors raised before GraphQL runs (a body that is not JSON, too large, of a
 * wrong type) answered in the GraphQL error shape, never an HTML page or a
 * stack trace.
 */
function httpErrorHandler(log: Logger, availability: DatabaseAvailability) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    // A client that went away mid-body (ECONNRESET "aborted") says nothing of the database.
    const fromClient = request.raw.aborted || request.raw.socket.destroyed || error instanceof RequestError;
    const unavailable =
      error instanceof DomainError && error.code === ErrorCode.SERVICE_UNAVAILABLE ? error : fromClient ? null : availability.answerFor(error);
    if (unavailable) {
      // The GraphQL error shape, and SimpleJWT's `detail`/`code` beside it for the REST token endpoints' clients.
      return reply
        .code(503)
        .header('retry-after', String(unavailable.details.retryAfter))
        .send({
          detail: unavailable.message,
          code: 'service_unavailable',
          errors: [{ message: unavailable.message, extensions: { code: unavailable.code, ...unavailable.details } }],
        });
    }
    // A Host header that makes no URL with the path (the Apollo integration builds one to read the query string).
    const status = (error as { code?: unknown }).code === 'ERR_INVALID_URL' ? 400 : error.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // Fastify's own errors (FST_…) and the body's (RequestError) say what was wrong with the request, never with a stack.
      const told = error instanceof RequestError || (typeof error.code === 'string' && error.code.startsWith('FST_'));
      const message = told ? error.message : 'bad request';
      return reply.code(status).send({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] });
    }
    log.error({ err: error instanceof Error ? { message: error.message, stack: error.stack } : String(error) }, 'internal error');
    return reply.code(500).send({ errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
  };
}

/** Answers of /graphql and /api/token depend on the credential sent: no cache may keep one, errors included. */
function noStore(_request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  reply.header('cache-control', 'no-store');
  done();
}

/**
 * TRUST_PROXY as Express read it: a number trusts that many hops counted from
 * the socket (Fastify would trust none), a list or `true` as they are.
 */
function trustProxy(setting: Config['trustProxy']): boolean | string[] | ((address: string, hop: number) => boolean) {
  return typeof setting === 'number' ? (_address, hop) => hop < setting : setting;
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
    const jwts = new Jwts(await loadKeySet(dataSource, config.jwt.privateKeys), config.jwt, now, config.credentialCache.max);
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

    // Fastify's logger is off: the access log below writes what is worth a line.
    if (typeof config.trustProxy === 'number') {
      log.warn(
        { trustProxy: config.trustProxy },
        'TRUST_PROXY is a hop count: a client that reaches idgraph without the proxies chooses its own address; list the proxies\' addresses instead',
      );
    }
    const app = Fastify({
      logger: false,
      trustProxy: trustProxy(config.trustProxy),
      bodyLimit: GRAPHQL_BODY_LIMIT,
      // As Express routed: `/api/token/refresh/` (what SimpleJWT's and Label Studio's clients call) and any case.
      routerOptions: { ignoreTrailingSlash: true, caseSensitive: false },
      // A URL the router cannot read (`/graphql%`) is answered in the same JSON shape as every other bad request.
      frameworkErrors: (error, _request, reply) =>
        (reply as FastifyReply)
          .code(error.statusCode ?? 400)
          .header('cache-control', 'no-store')
          .send({ errors: [{ message: error.message, extensions: { code: 'BAD_REQUEST' } }] }),
    });
    app.setErrorHandler(httpErrorHandler(log, availability));
    app.setNotFoundHandler((_request, reply) =>
      reply.code(404).header('cache-control', 'no-store').send({ errors: [{ message: 'not found', extensions: { code: 'NOT_FOUND' } }] }),
    );
    if (drain) app.addHook('onRequest', drain.refuseWhileDraining);
    const logRequest = accessLog(log, config.slowRequestMs);
    recordRequests(app, (request) => {
      logRequest(request);
      metrics.observeRequest(request);
    });
    const home = homePage(config.graphiql);
    app.get('/', (_request, reply) => reply.type('text/html; charset=utf-8').send(home));
    if (config.graphiql) graphiql(app);
    probes(app, new Readiness(dataSource, () => jwts.jwks.keys.length > 0, log));
    app.get('/.well-known/jwks.json', (_request, reply) => reply.header('cache-control', 'public, max-age=300, stale-while-revalidate=60').send(jwts.jwks));
    await app.register(async (scope) => {
      readJsonOnly(scope, TOKEN_ENDPOINT_BODY_LIMIT);
      scope.addHook('onRequest', noStore);
      tokenEndpoints(scope, services.personalAccessTokens, services.credentials.accessTokens, services.rateLimits);
    }, { prefix: '/api/token' });
    await app.register(
      async (scope) => {
        readJsonOnly(scope, GRAPHQL_BODY_LIMIT);
        scope.addHook('onRequest', noStore);
        // Only listed origins, each echoed back, never `*`: browsers then send cookies only to those. Preflights are answered by its hook.
        await scope.register(cors, { origin: config.corsOrigins, credentials: true, maxAge: 600, strictPreflight: false });
        scope.route({
          // Every method reaches Apollo, which answers those it does not serve with 405.
          method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
          url: '',
          handler: fastifyApolloHandler(apollo, {
            context: recordingContext(
              createContextFactory({ dataSource, services, authenticator, log, availability, production: config.nodeEnv === 'production' }),
              config.tokenPrefix,
            ),
          }),
        });
      },
      { prefix: '/graphql' },
    );
    await app.ready();

    return {
      handler: app.routing,
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
