import path from 'node:path';
import { z } from 'zod';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** `false`, `true`, a hop count, or a comma-separated list of addresses/subnets, as Express's `trust proxy` takes it. */
const trustProxy = z
  .string()
  .trim()
  .transform((value): boolean | number | string[] => {
    if (value === '' || value === 'false') return false;
    if (value === 'true') return true;
    if (/^\d+$/.test(value)) return Number(value);
    return value.split(',').map((part) => part.trim()).filter(Boolean);
  });

const flag = z.enum(['true', 'false']).transform((value) => value === 'true');

const optionalUrl = (protocols: string[]) =>
  z
    .string()
    .trim()
    .optional()
    .transform((value) => (value ? value : undefined))
    .refine((value) => value === undefined || protocols.some((p) => value.startsWith(`${p}://`)), {
      message: `must start with ${protocols.map((p) => `${p}://`).join(' or ')}`,
    });

export type DatabaseTimeouts = { connectSeconds: number; statementSeconds: number };

/**
 * DATABASE_CONNECT_TIMEOUT_SECONDS and DATABASE_STATEMENT_TIMEOUT_SECONDS when
 * unset, also for data sources made without a Config (tests, the CLI). A frozen
 * PostgreSQL is then answered 503 within statement + 2 s, under a load
 * balancer's usual 10 s.
 */
export const DEFAULT_DATABASE_TIMEOUTS: DatabaseTimeouts = { connectSeconds: 3, statementSeconds: 5 };

const environment = z.object({
  PORT: integer(0, 65535).default(4000),
  HOST: z.string().trim().min(1).default('0.0.0.0'),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  DATABASE_URL: optionalUrl(['postgres', 'postgresql']),
  DATABASE_CONNECT_TIMEOUT_SECONDS: integer(1, 60).default(DEFAULT_DATABASE_TIMEOUTS.connectSeconds),
  DATABASE_STATEMENT_TIMEOUT_SECONDS: integer(1, 3600).default(DEFAULT_DATABASE_TIMEOUTS.statementSeconds),
  SHUTDOWN_TIMEOUT_SECONDS: integer(0, 3600).default(10),
  IDGRAPH_DATA_DIR: z.string().trim().min(1).default('.data'),
  REDIS_URL: optionalUrl(['redis', 'rediss']),
  TRUST_PROXY: trustProxy.default(false),
  SESSION_TTL_SECONDS: integer(60, 31_536_000).default(1_209_600),
  TOKEN_PREFIX: z
    .string()
    .trim()
    .regex(/^[a-z][a-z0-9]{1,9}_$/, 'must be 2 to 10 lowercase letters or digits, starting with a letter, followed by _')
    .default('idg_'),
  LOGIN_RATE_LIMIT: integer(1, 100_000).default(10),
  LOGIN_RATE_WINDOW_SECONDS: integer(1, 86_400).default(60),
  SIGNUP_RATE_LIMIT: integer(1, 100_000).default(10),
  SIGNUP_RATE_WINDOW_SECONDS: integer(1, 86_400).default(60),
  AUTH_FAILURE_RATE_LIMIT: integer(1, 100_000).default(30),
  AUTH_FAILURE_RATE_WINDOW_SECONDS: integer(1, 86_400).default(60),
  TOKEN_RATE_LIMIT: integer(1, 100_000).default(10),
  TOKEN_RATE_WINDOW_SECONDS: integer(1, 86_400).default(60),
  ADD_MEMBER_RATE_LIMIT: integer(1, 100_000).default(30),
  ADD_MEMBER_RATE_WINDOW_SECONDS: integer(1, 86_400).default(3600),
  INVITATIONS_PER_ADDRESS_LIMIT: integer(1, 100_000).default(5),
  INTROSPECTION_RATE_LIMIT: integer(1, 1_000_000).default(300),
  INTROSPECTION_RATE_WINDOW_SECONDS: integer(1, 86_400).default(60),
  INTROSPECTION_FAILURE_RATE_LIMIT: integer(1, 1_000_000).default(600),
  INTROSPECTION_FAILURE_RATE_WINDOW_SECONDS: integer(1, 86_400).default(60),
  TOKEN_USAGE_FLUSH_SECONDS: integer(1, 3600).default(5),
  CREDENTIAL_CACHE_MAX: integer(0, 10_000_000).default(100_000),
  CREDENTIAL_CACHE_TTL_SECONDS: integer(1, 3600).default(60),
  EXPIRY_NOTIFICATION_INTERVAL_SECONDS: integer(0, 86_400).default(3600),
  SMTP_URL: optionalUrl(['smtp', 'smtps']),
  SMTP_FROM: z.string().trim().min(3).default('idgraph <no-reply@localhost>'),
  JWT_PRIVATE_KEYS: z.string().trim().optional().transform((value) => value || undefined),
  JWT_ISSUER: z.string().trim().min(1).default('idgraph'),
  JWT_AUDIENCE: z.string().trim().min(1).default('idgraph'),
  JWT_LEEWAY_SECONDS: integer(0, 300).default(30),
  SIGNING_KEY_RELOAD_SECONDS: integer(1, 3600).default(60),
  ACCESS_TOKEN_TTL_SECONDS: integer(30, 86_400).default(300),
  PAT_MAX_LIFETIME_DAYS: integer(1, 3650).default(365),
  TOKEN_ENDPOINT_RATE_LIMIT: integer(1, 100_000).default(60),
  TOKEN_ENDPOINT_RATE_WINDOW_SECONDS: integer(1, 86_400).default(60),
  RATE_LIMIT_IPV6_PREFIX: integer(1, 128).default(64),
  RATE_LIMIT_PURGE_SECONDS: integer(1, 86_400).default(60),
  GRAPHQL_MAX_DEPTH: integer(1, 100).default(10),
  GRAPHQL_MAX_ALIASES: integer(0, 1000).default(15),
  GRAPHQL_MAX_TOKENS: integer(10, 100_000).default(1000),
  GRAPHQL_MAX_COST: integer(1, 10_000_000).default(50_000),
  GRAPHQL_MAX_DIRECTIVES: integer(0, 1000).default(20),
  INTROSPECTION: flag.optional(),
  GRAPHIQL: flag.optional(),
  CORS_ORIGINS: z
    .string()
    .trim()
    .default('')
    .transform((value) => value.split(',').map((origin) => origin.trim()).filter(Boolean))
    .refine((origins) => !origins.includes('*'), { message: 'must list origins; * is not allowed with credentials' })
    .refine((origins) => origins.every((origin) => /^https?:\/\/[^/\s]+$/.test(origin)), { message: 'must be a comma-separated list of origins such as https://app.example.com' }),
  METRICS_PORT: integer(0, 65535).default(9464),
  METRICS_HOST: z.string().trim().min(1).default('127.0.0.1'),
  SLOW_REQUEST_MS: integer(0, 3_600_000).default(500),
});

export type Config = {
  port: number;
  host: string;
  nodeEnv: 'development' | 'production' | 'test';
  logLevel: (typeof LOG_LEVELS)[number];
  databaseUrl: string | undefined;
  /** How long to wait for a new database connection, and for a statement (not applied to migrations). */
  databaseTimeouts: { connectSeconds: number; statementSeconds: number };
  /** How long a stopping server lets requests in flight finish before cutting them off. */
  shutdownTimeoutSeconds: number;
  dataDir: string;
  redisUrl: string | undefined;
  trustProxy: boolean | number | string[];
  sessionTtlSeconds: number;
  tokenPrefix: string;
  loginRateLimit: { points: number; windowSeconds: number };
  signUpRateLimit: { points: number; windowSeconds: number };
  authFailureRateLimit: { points: number; windowSeconds: number };
  tokenRateLimit: { points: number; windowSeconds: number };
  addMemberRateLimit: { points: number; windowSeconds: number };
  /** Invitations of one e-mail address by one inviting account, per ADD_MEMBER_RATE_WINDOW_SECONDS. */
  invitationsPerAddressLimit: { points: number; windowSeconds: number };
  introspectionRateLimit: { points: number; windowSeconds: number };
  /** Introspections that found no such credential, per introspecting principal. */
  introspectionFailureRateLimit: { points: number; windowSeconds: number };
  tokenUsageFlushSeconds: number;
  /**
   * The verified-credential cache: at most `max` entries (0 turns it off), none
   * kept longer than `ttlSeconds` even if an invalidation were lost.
   */
  credentialCache: { max: number; ttlSeconds: number };
  /** 0 turns the in-process expiry notification job off. */
  expiryNotificationIntervalSeconds: number;
  smtpUrl: string | undefined;
  smtpFrom: string;
  jwt: {
    /** A JWK set (JSON) or PEM private keys; the first signs. Unset: a key pair kept in the database. */
    privateKeys: string | undefined;
    issuer: string;
    audience: string;
    leewaySeconds: number;
    accessTokenTtlSeconds: number;
    patMaxLifetimeDays: number;
    /** How often a server rereads the database's signing keys, to pick up a rotation. */
    keyReloadSeconds: number;
  };
  tokenEndpointRateLimit: { points: number; windowSeconds: number };
  /** IPv6 clients are counted by this prefix (a /64 by default), IPv4 clients by address. */
  rateLimitIpv6Prefix: number;
  /** How often expired rows of the `rate_limits` table are deleted. */
  rateLimitPurgeSeconds: number;
  graphqlLimits: { maxDepth: number; maxAliases: number; maxTokens: number; maxCost: number; maxDirectives: number };
  /** Introspection and the GraphiQL IDE: on by default, off in production unless enabled. */
  introspection: boolean;
  graphiql: boolean;
  /** Browser origins allowed to call with credentials (CORS); none by default. */
  corsOrigins: string[];
  /** The Prometheus listener (`/metrics`); port 0 turns it off. */
  metrics: {
    port: number;
    host: string;
    /** METRICS_PORT was set: a port that cannot be had stops the start; the default one is only warned about. */
    portChosen: boolean;
  };
  /** A request that takes longer is logged at `info` even when it succeeded. */
  slowRequestMs: number;
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses and validates the environment once; every problem names its variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // A variable set to nothing (`PORT=` from `PORT=${PORT}` in a compose file) means unset: its default, never 0.
  const given = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''));
  const parsed = environment.safeParse(given);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    nodeEnv: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    databaseUrl: e.DATABASE_URL,
    databaseTimeouts: { connectSeconds: e.DATABASE_CONNECT_TIMEOUT_SECONDS, statementSeconds: e.DATABASE_STATEMENT_TIMEOUT_SECONDS },
    shutdownTimeoutSeconds: e.SHUTDOWN_TIMEOUT_SECONDS,
    dataDir: path.resolve(e.IDGRAPH_DATA_DIR),
    redisUrl: e.REDIS_URL,
    trustProxy: e.TRUST_PROXY,
    sessionTtlSeconds: e.SESSION_TTL_SECONDS,
    tokenPrefix: e.TOKEN_PREFIX,
    loginRateLimit: { points: e.LOGIN_RATE_LIMIT, windowSeconds: e.LOGIN_RATE_WINDOW_SECONDS },
    signUpRateLimit: { points: e.SIGNUP_RATE_LIMIT, windowSeconds: e.SIGNUP_RATE_WINDOW_SECONDS },
    authFailureRateLimit: { points: e.AUTH_FAILURE_RATE_LIMIT, windowSeconds: e.AUTH_FAILURE_RATE_WINDOW_SECONDS },
    tokenRateLimit: { points: e.TOKEN_RATE_LIMIT, windowSeconds: e.TOKEN_RATE_WINDOW_SECONDS },
    addMemberRateLimit: { points: e.ADD_MEMBER_RATE_LIMIT, windowSeconds: e.ADD_MEMBER_RATE_WINDOW_SECONDS },
    invitationsPerAddressLimit: { points: e.INVITATIONS_PER_ADDRESS_LIMIT, windowSeconds: e.ADD_MEMBER_RATE_WINDOW_SECONDS },
    introspectionRateLimit: { points: e.INTROSPECTION_RATE_LIMIT, windowSeconds: e.INTROSPECTION_RATE_WINDOW_SECONDS },
    introspectionFailureRateLimit: { points: e.INTROSPECTION_FAILURE_RATE_LIMIT, windowSeconds: e.INTROSPECTION_FAILURE_RATE_WINDOW_SECONDS },
    tokenUsageFlushSeconds: e.TOKEN_USAGE_FLUSH_SECONDS,
    credentialCache: { max: e.CREDENTIAL_CACHE_MAX, ttlSeconds: e.CREDENTIAL_CACHE_TTL_SECONDS },
    expiryNotificationIntervalSeconds: e.EXPIRY_NOTIFICATION_INTERVAL_SECONDS,
    smtpUrl: e.SMTP_URL,
    smtpFrom: e.SMTP_FROM,
    jwt: {
      privateKeys: e.JWT_PRIVATE_KEYS,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      leewaySeconds: e.JWT_LEEWAY_SECONDS,
      accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
      patMaxLifetimeDays: e.PAT_MAX_LIFETIME_DAYS,
      keyReloadSeconds: e.SIGNING_KEY_RELOAD_SECONDS,
    },
    tokenEndpointRateLimit: { points: e.TOKEN_ENDPOINT_RATE_LIMIT, windowSeconds: e.TOKEN_ENDPOINT_RATE_WINDOW_SECONDS },
    rateLimitIpv6Prefix: e.RATE_LIMIT_IPV6_PREFIX,
    rateLimitPurgeSeconds: e.RATE_LIMIT_PURGE_SECONDS,
    graphqlLimits: {
      maxDepth: e.GRAPHQL_MAX_DEPTH,
      maxAliases: e.GRAPHQL_MAX_ALIASES,
      maxTokens: e.GRAPHQL_MAX_TOKENS,
      maxCost: e.GRAPHQL_MAX_COST,
      maxDirectives: e.GRAPHQL_MAX_DIRECTIVES,
    },
    introspection: e.INTROSPECTION ?? e.NODE_ENV !== 'production',
    graphiql: e.GRAPHIQL ?? e.NODE_ENV !== 'production',
    corsOrigins: e.CORS_ORIGINS,
    metrics: { port: e.METRICS_PORT, host: e.METRICS_HOST, portChosen: Boolean(env.METRICS_PORT?.trim()) },
    slowRequestMs: e.SLOW_REQUEST_MS,
  };
}
