import type Redis from 'ioredis';
import type { DataSource } from 'typeorm';
import { RateLimits } from './common/rate-limits';
import type { Config } from './config';
import { Credentials } from './credentials/credentials';
import type { Logger } from './logger';
import { Mailer } from './mail/mailer';
import { ApiTokensService } from './modules/api-tokens/api-tokens.service';
import { TokenPolicyService } from './modules/api-tokens/token-policy.service';
import { TokenUsageRecorder } from './modules/api-tokens/token-usage';
import type { Jwts } from './modules/personal-access-tokens/jwts';
import { IntrospectionService } from './modules/introspection/introspection.service';
import { PersonalAccessTokensService } from './modules/personal-access-tokens/personal-access-tokens.service';
import { AuditService } from './modules/audit/audit.service';
import { MembershipsService } from './modules/organizations/memberships.service';
import { OrganizationsService } from './modules/organizations/organizations.service';
import { ServiceUsersService } from './modules/service-users/service-users.service';
import { SessionsService } from './modules/sessions/sessions.service';
import { UsersService } from './modules/users/users.service';

/** The application's services, made once per app; each method takes the request's context. */
export function createServices(deps: { dataSource: DataSource; config: Config; log: Logger; jwts: Jwts; now: () => Date; redis?: Redis }) {
  const { dataSource, config, log, jwts, now, redis } = deps;
  const audit = new AuditService(dataSource);
  const mailer = new Mailer(config.smtpUrl, config.smtpFrom, log);
  const rateLimits = new RateLimits(config, { dataSource, redis }, log);
  const sessions = new SessionsService(dataSource, config);
  const tokenUsage = new TokenUsageRecorder(dataSource, config.tokenUsageFlushSeconds, log);
  const users = new UsersService(dataSource, sessions, rateLimits, audit);
  const apiTokens = new ApiTokensService(dataSource, audit, rateLimits, config.tokenPrefix, now);
  const credentials = new Credentials({
    dataSource,
    jwts,
    usage: tokenUsage,
    tokenPrefix: config.tokenPrefix,
    cache: config.credentialCache,
    now,
    log,
    onReplacedSecret: (token, origin) => apiTokens.revokeReused(token, origin),
  });
  const personalAccessTokens = new PersonalAccessTokensService(dataSource, jwts, credentials.accessTokens, tokenUsage, rateLimits, config.jwt.patMaxLifetimeDays, audit, now);
  return {
    credentials,
    audit,
    mailer,
    rateLimits,
    sessions,
    tokenUsage,
    apiTokens,
    personalAccessTokens,
    introspection: new IntrospectionService(credentials, config.tokenPrefix, rateLimits),
    tokenPolicies: new TokenPolicyService(dataSource, audit),
    users,
    organizations: new OrganizationsService(dataSource, audit),
    memberships: new MembershipsService(dataSource, audit, rateLimits, mailer),
    serviceUsers: new ServiceUsersService(dataSource, audit),
  };
}

export type Services = ReturnType<typeof createServices>;
