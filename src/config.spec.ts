import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  it('has a default for everything a newcomer needs', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 4000,
      nodeEnv: 'development',
      logLevel: 'info',
      databaseUrl: undefined,
      trustProxy: false,
      sessionTtlSeconds: 1_209_600,
      tokenPrefix: 'idg_',
      rateLimitIpv6Prefix: 64,
      rateLimitPurgeSeconds: 60,
      metrics: { port: 9464, host: '127.0.0.1' },
      slowRequestMs: 500,
    });
    expect(config.dataDir).toMatch(/\.data$/);
    expect(config).toMatchObject({ shutdownTimeoutSeconds: 10, databaseTimeouts: { connectSeconds: 3, statementSeconds: 5 } });
  });

  it.each([
    ['TRUST_PROXY', 'true', true],
    ['TRUST_PROXY', '2', 2],
    ['TRUST_PROXY', 'loopback, 10.0.0.0/8', ['loopback', '10.0.0.0/8']],
    ['TRUST_PROXY', 'false', false],
  ])('parses %s=%s', (name, value, expected) => {
    expect(loadConfig({ [name]: value }).trustProxy).toEqual(expected);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['NODE_ENV', 'staging'],
    ['LOG_LEVEL', 'loud'],
    ['DATABASE_URL', 'mysql://localhost/x'],
    ['SESSION_TTL_SECONDS', '5'],
    ['REDIS_URL', 'http://localhost'],
    ['TOKEN_PREFIX', 'IDG'],
    ['RATE_LIMIT_IPV6_PREFIX', '0'],
    ['RATE_LIMIT_IPV6_PREFIX', '129'],
    ['RATE_LIMIT_PURGE_SECONDS', '0'],
    ['METRICS_PORT', '-1'],
    ['SLOW_REQUEST_MS', 'fast'],
    ['SHUTDOWN_TIMEOUT_SECONDS', '-1'],
    ['DATABASE_CONNECT_TIMEOUT_SECONDS', '0'],
    ['DATABASE_STATEMENT_TIMEOUT_SECONDS', 'soon'],
  ])('refuses %s=%s with a message naming the variable', (name, value) => {
    let caught: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).message).toContain(name);
  });
  it('takes a variable set to nothing as unset, so its default applies rather than 0', () => {
    const config = loadConfig({ PORT: '', METRICS_PORT: ' ', SHUTDOWN_TIMEOUT_SECONDS: '' });
    expect(config).toMatchObject({ port: 4000, metrics: { port: 9464, portChosen: false }, shutdownTimeoutSeconds: 10 });
  });
});
