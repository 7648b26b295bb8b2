import type { Command } from 'commander';
import type { EntityManager } from 'typeorm';
import { rightsIn } from '../../auth/rights';
import { isId } from '../../common/ids';
import { DomainError, ErrorCode } from '../../errors';
import { ApiTokensService } from '../../modules/api-tokens/api-tokens.service';
import { OrganizationEntity } from '../../modules/organizations/organization.entity';
import { ServiceUserEntity } from '../../modules/service-users/service-user.entity';
import { operatorAudit, operatorContext, operatorRateLimits } from '../operator';
import { parseRights } from '../rights-syntax';
import { CliError, configFromEnvironment, EXIT, output, printJson, withDatabase } from '../runtime';

type Options = { org: string; serviceUser: string; rights: string; name?: string; description?: string; expiresAt?: string; expiresInDays?: string; json?: boolean };

const DAY_MS = 86_400_000;

function expiryOf(options: Options): Date | null {
  if (options.expiresAt !== undefined && options.expiresInDays !== undefined) {
    throw new CliError('give --expires-at or --expires-in-days, not both', EXIT.USAGE, 'BAD_USER_INPUT');
  }
  if (options.expiresInDays !== undefined) {
    const days = Number(options.expiresInDays);
    if (!Number.isInteger(days) || days < 1 || days > 36_500) throw new CliError('--expires-in-days: must be a whole number of days from 1 to 36500', EXIT.USAGE, 'BAD_USER_INPUT');
    return new Date(Date.now() + days * DAY_MS);
  }
  if (options.expiresAt !== undefined) {
    const at = new Date(options.expiresAt);
    if (!/^\d{4}-\d{2}-\d{2}/.test(options.expiresAt) || Number.isNaN(at.getTime())) {
      throw new CliError('--expires-at: must be an ISO 8601 date or date-time, such as 2027-01-31 or 2027-01-31T12:00:00Z', EXIT.USAGE, 'BAD_USER_INPUT');
    }
    return at;
  }
  return null;
}

async function organizationOf(manager: EntityManager, idOrSlug: string): Promise<OrganizationEntity> {
  const organization = isId(idOrSlug)
    ? await manager.findOneBy(OrganizationEntity, { id: idOrSlug.toLowerCase() })
    : await manager.findOneBy(OrganizationEntity, { slug: idOrSlug.trim().toLowerCase() });
  if (!organization) throw new CliError(`organization not found: ${idOrSlug}`, EXIT.FAILED, 'NOT_FOUND');
  return organization;
}

async function serviceUserOf(manager: EntityManager, organizationId: string, idOrName: string): Promise<ServiceUserEntity> {
  const serviceUser = isId(idOrName)
    ? await manager.findOneBy(ServiceUserEntity, { id: idOrName.toLowerCase(), organizationId })
    : await manager.findOneBy(ServiceUserEntity, { name: idOrName.trim(), organizationId });
  if (!serviceUser) throw new CliError(`service user not found in this organization: ${idOrName}`, EXIT.FAILED, 'NOT_FOUND');
  return serviceUser;
}

/**
 * `idgraph service-token`: an API token of a service user, made by the
 * same service method as the GraphQL `createApiToken`, so the same rules hold
 * (rights within the service user's role, the organization's expiration
 * policy, name checks) and the same `api_token.created` event is written,
 * with an OPERATOR as its actor.
 */
export async function runServiceToken(options: Options): Promise<number> {
  const out = output(Boolean(options.json));
  const wanted = parseRights(options.rights);
  const expiresAt = expiryOf(options);
  const config = configFromEnvironment();
  const created = await withDatabase(config, async (dataSource) => {
    const organization = await organizationOf(dataSource.manager, options.org);
    const serviceUser = await serviceUserOf(dataSource.manager, organization.id, options.serviceUser);
    const apiTokens = new ApiTokensService(dataSource, operatorAudit(dataSource), operatorRateLimits, config.tokenPrefix);
    return apiTokens.create(operatorContext(dataSource), {
      organizationId: organization.id,
      serviceUserId: serviceUser.id,
      name: options.name ?? `${serviceUser.name} (idgraph cli)`,
      description: options.description ?? null,
      // `all`: the service user's role is the ceiling, and the service takes it when no rights are given.
      rights: wanted === 'all' ? null : wanted,
      expiresAt,
    }).catch((error: unknown) => {
      const right = error instanceof DomainError ? error.details.right : undefined;
      if (error instanceof DomainError && error.code === ErrorCode.FORBIDDEN && right) {
        throw new CliError(`--rights: ${String(right)} exceeds what the service user's role ${serviceUser.role} allows`, EXIT.FAILED, 'FORBIDDEN');
      }
      throw error;
    });
  });
  const { token, secret } = created;
  const summary = {
    id: token.id,
    tokenPrefix: token.tokenPrefix,
    organizationId: token.organizationId,
    serviceUserId: token.ownerServiceUserId,
    name: token.name,
    rights: rightsIn(token.rights),
    expiresAt: token.expiresAt ? token.expiresAt.toISOString() : null,
  };
  if (out.json) {
    printJson(out, { token: secret, apiToken: summary });
  } else {
    out.write(
      [
        `created API token ${summary.id} (${summary.tokenPrefix}…) for service user ${summary.serviceUserId}`,
        `rights: ${summary.rights.join(', ') || 'none'}`,
        `expires: ${summary.expiresAt ?? 'never'}`,
        `token (shown once, keep it safe): ${secret}`,
      ].join('\n'),
    );
  }
  return EXIT.OK;
}

export function serviceTokenCommand(program: Command, run: (action: () => Promise<number>) => Promise<void>): void {
  program
    .command('service-token')
    .description("create an API token for a service user and print its secret once")
    .requiredOption('--org <id-or-slug>', 'the organization, by id or slug')
    .requiredOption('--service-user <id-or-name>', 'the service user, by id or name (within the organization)')
    .requiredOption('--rights <rights>', '`all` (what the service user\'s role allows) or a list such as members.read,apiTokens.create (resource.* for all four actions)')
    .option('--name <name>', "the token's name (default: \"<service user> (idgraph cli)\")")
    .option('--description <text>', "the token's description")
    .option('--expires-in-days <days>', 'expire after this many days (default: never, unless the organization\'s policy requires an expiry)')
    .option('--expires-at <iso-date>', 'expire at this date or date-time (ISO 8601)')
    .option('--json', 'print {"token": "<secret>", "apiToken": {id, tokenPrefix, organizationId, serviceUserId, name, rights, expiresAt}}')
    .action((options: Options) => run(() => runServiceToken(options)));
}
