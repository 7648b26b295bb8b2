import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Authenticator } from '../auth/authenticator';
import type { RateLimits } from '../common/rate-limits';
import type { CredentialCache } from '../credentials/credential-cache';
import type { ExpiryNotifier } from '../modules/api-tokens/expiry-notifier';
import type { TokenUsageRecorder } from '../modules/api-tokens/token-usage';
import type { PoolStats } from './pool-stats';
import type { FinishedRequest } from './request-record';

/** Operation names beyond this many distinct ones share the label `other`, so a client cannot grow the series without bound. */
export const MAX_OPERATION_LABELS = 100;
const OPERATION_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;
/** An operation that a client names like a group is put in `other`, so that `anonymous` counts only unnamed ones. */
const RESERVED_LABELS = new Set(['anonymous', 'other']);

/** The paths that get their own `route` label; anything else (404s, static assets) is `other`. */
const ROUTES = new Set(['/', '/graphql', '/graphiql', '/healthz', '/readyz', '/.well-known/jwks.json', '/api/token/refresh', '/api/token/verify']);

export type RequestOutcome = 'ok' | 'client_error' | 'server_error';

const SERVER_ERROR_CODES = new Set(['INTERNAL_SERVER_ERROR', 'SERVICE_UNAVAILABLE']);

/** `server_error` for a 5xx or an internal error code, `client_error` for a 4xx or any other GraphQL error, `ok` otherwise. */
export function outcomeOf(status: number, errorCodes: readonly string[]): RequestOutcome {
  if (status >= 500 || errorCodes.some((code) => SERVER_ERROR_CODES.has(code))) return 'server_error';
  if (status >= 400 || errorCodes.length > 0) return 'client_error';
  return 'ok';
}

/**
 * One app's Prometheus metrics, in a registry of its own (tests run several
 * apps in one process). Counters are always kept, as they cost next to
 * nothing; the process metrics are collected only when a listener serves them.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly operationLabels = new Set<string>();

  private readonly requestDuration = new Histogram({
    name: 'idgraph_http_request_duration_seconds',
    help: 'HTTP requests by route, GraphQL operation name (anonymous, other) and outcome (ok, client_error, server_error).',
    labelNames: ['route', 'operation', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  private readonly credentialVerifications = new Counter({
    name: 'idgraph_credential_verifications_total',
    help: 'Credentials presented with requests, by kind and by what their check decided.',
    labelNames: ['kind', 'result'] as const,
    registers: [this.registry],
  });

  private readonly rateLimitRefusals = new Counter({
    name: 'idgraph_rate_limit_refusals_total',
    help: 'Requests refused by a rate limit, by limit.',
    labelNames: ['limit'] as const,
    registers: [this.registry],
  });

  private readonly expiryNotifierRuns = new Counter({
    name: 'idgraph_expiry_notifier_runs_total',
    help: 'Runs of the token expiry notifier, by result (ok, failed).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  private readonly expiryMailsSent = new Counter({
    name: 'idgraph_expiry_notifier_mails_sent_total',
    help: 'Token expiry notices mailed.',
    registers: [this.registry],
  });

  private readonly tokenUsageFlushes = new Counter({
    name: 'idgraph_token_usage_flushes_total',
    help: 'Writes of gathered API token usage, by result (ok, failed).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  private readonly credentialCacheLookups = new Counter({
    name: 'idgraph_credential_cache_lookups_total',
    help: 'Lookups of a credential in the verified-credential cache, by result (hit, miss: read from the database).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  private readonly tokenUsageRowsWritten = new Counter({
    name: 'idgraph_token_usage_rows_written_total',
    help: 'API token rows updated by token usage writes.',
    registers: [this.registry],
  });

  constructor(options: { processMetrics: boolean; pool: () => PoolStats }) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'idgraph_' });
    const poolGauge = (name: string, help: string, read: (stats: PoolStats) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read(options.pool()));
        },
      });
    poolGauge('idgraph_db_pool_connections', 'Connections the database pool holds (idle and in use).', (stats) => stats.total);
    poolGauge('idgraph_db_pool_idle_connections', 'Connections of the database pool that are idle.', (stats) => stats.idle);
    poolGauge('idgraph_db_pool_waiting_clients', 'Queries waiting for a connection of the database pool.', (stats) => stats.waiting);
  }

  /** Subscribes to what the app's parts report: credential checks, rate-limit refusals, the background jobs. */
  observe(parts: {
    authenticator: Authenticator;
    rateLimits: RateLimits;
    tokenUsage: TokenUsageRecorder;
    notifier: ExpiryNotifier;
    credentialCache: CredentialCache;
  }): void {
    const cache = parts.credentialCache;
    cache.onLookup = (hit) => this.credentialCacheLookups.inc({ result: hit ? 'hit' : 'miss' });
    new Gauge({
      name: 'idgraph_credential_cache_entries',
      help: 'Entries the verified-credential cache holds.',
      registers: [this.registry],
      collect() {
        this.set(cache.size);
      },
    });
    new Gauge({
      name: 'idgraph_credential_cache_bypassed',
      help: '1 while the verified-credential cache is bypassed (turned off, or its invalidation listener is not subscribed).',
      registers: [this.registry],
      collect() {
        this.set(cache.bypassed ? 1 : 0);
      },
    });
    parts.authenticator.onVerification = (kind, result) => this.credentialVerifications.inc({ kind, result });
    parts.rateLimits.onRefusal = (limit) => this.rateLimitRefusals.inc({ limit });
    parts.tokenUsage.onFlush = (written) => {
      this.tokenUsageFlushes.inc({ result: written === 'failed' ? 'failed' : 'ok' });
      if (written !== 'failed') this.tokenUsageRowsWritten.inc(written);
    };
    parts.notifier.onRun = (result) => this.expiryNotifierRuns.inc({ result });
    parts.notifier.onMailSent = () => this.expiryMailsSent.inc();
  }

  observeRequest(request: FinishedRequest): void {
    this.requestDuration.observe(
      {
        route: ROUTES.has(request.path) ? request.path : 'other',
        operation: request.operation === undefined ? '' : this.operationLabel(request.operation),
        outcome: outcomeOf(request.status, request.errorCodes),
      },
      request.ms / 1000,
    );
  }

  /** `anonymous` for an unnamed operation; a name's own label while there are fewer than MAX_OPERATION_LABELS; `other` beyond, or for a name that is no plain identifier. */
  private operationLabel(name: string | null): string {
    if (name === null) return 'anonymous';
    if (this.operationLabels.has(name)) return name;
    if (!OPERATION_NAME.test(name) || RESERVED_LABELS.has(name) || this.operationLabels.size >= MAX_OPERATION_LABELS) return 'other';
    this.operationLabels.add(name);
    return name;
  }
}
