import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { OrganizationRole } from '../../auth/rights';
import { newUserKey, sha256 } from '../../auth/secrets';
import { uniqueViolation } from '../../db/errors';
import { AuditEventType } from '../../modules/audit/audit.service';
import { MembershipEntity } from '../../modules/organizations/membership.entity';
import { OrganizationEntity } from '../../modules/organizations/organization.entity';
import { checkSlug, slugFrom } from '../../modules/organizations/organizations.service';
import { hashPassword } from '../../modules/users/password';
import { UserEntity } from '../../modules/users/user.entity';
import { checkName, checkPassword, normalizeEmail } from '../../modules/users/validation';
import { operatorAudit, operatorContext } from '../operator';
import { CliError, configFromEnvironment, EXIT, output, printJson, withDatabase } from '../runtime';

export const PASSWORD_ENV = 'IDGRAPH_BOOTSTRAP_PASSWORD';

type Options = { email: string; name: string; org: string; slug?: string; password?: string; passwordStdin?: boolean; json?: boolean };

/** Exactly one source: --password, --password-stdin, or IDGRAPH_BOOTSTRAP_PASSWORD (the last two keep it out of shell history). */
function passwordOf(options: Options): string {
  const fromEnv = process.env[PASSWORD_ENV];
  const sources = [options.password !== undefined, Boolean(options.passwordStdin), fromEnv !== undefined].filter(Boolean).length;
  if (sources === 0) throw new CliError(`a password is needed: --password-stdin, ${PASSWORD_ENV}, or --password`, EXIT.USAGE, 'BAD_USER_INPUT');
  if (sources > 1) throw new CliError(`give the password one way only: --password-stdin, ${PASSWORD_ENV}, or --password`, EXIT.USAGE, 'BAD_USER_INPUT');
  if (options.password !== undefined) return options.password;
  if (fromEnv !== undefined) return fromEnv;
  // The first line of standard input, as `docker secret`, `pass` or `echo` hand it over.
  return readFileSync(0, 'utf8').split(/\r?\n/)[0] ?? '';
}

/**
 * `idgraph bootstrap`: the first user and their organization, on an install
 * with no user at all. Checked and written in one transaction that holds
 * the users table against concurrent sign-ups, so two bootstraps (or a
 * bootstrap and a signUp) cannot both find it empty.
 */
export async function runBootstrap(options: Options): Promise<number> {
  const out = output(Boolean(options.json));
  // The same rules signUp and createOrganization apply, checked before anything is opened.
  const email = normalizeEmail(options.email);
  const password = checkPassword(passwordOf(options));
  const name = checkName('name', options.name, 200);
  const orgName = checkName('org', options.org, 200);
  const slug = options.slug === undefined ? slugFrom(orgName) : checkSlug(options.slug);
  const config = configFromEnvironment();
  const passwordHash = await hashPassword(password);
  const userKey = newUserKey();
  const result = await withDatabase(config, (dataSource) =>
    dataSource.transaction(async (manager) => {
      await manager.query('LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE');
      if ((await manager.count(UserEntity)) > 0) {
        throw new CliError('refused: this install already has users; bootstrap only sets up an empty one (sign up or invite instead)', EXIT.FAILED, 'CONFLICT');
      }
      const user = await manager.save(manager.create(UserEntity, { email, name, passwordHash, userKeyDigest: sha256(userKey), isActive: true }));
      const organization = await manager.save(manager.create(OrganizationEntity, { name: orgName, slug }));
      await manager.insert(MembershipEntity, { organizationId: organization.id, userId: user.id, role: OrganizationRole.OWNER });
      await operatorAudit(dataSource).record(manager, operatorContext(dataSource), {
        organizationId: organization.id,
        eventType: AuditEventType.ORGANIZATION_CREATED,
        targetType: 'organization',
        targetId: organization.id,
        changes: { name: orgName, slug, ownerUserId: user.id, bootstrap: true },
      });
      return { userId: user.id, organizationId: organization.id, slug };
    }).catch((error: unknown) => {
      // Organizations can outlive their users: a slug may be taken on an install without users.
      if (uniqueViolation(error) === 'UQ_organizations_slug') throw new CliError(`slug: an organization with the slug ${slug} already exists; choose another with --slug`, EXIT.FAILED, 'CONFLICT');
      throw error;
    }),
  );
  if (out.json) {
    printJson(out, { userKey, userId: result.userId, organizationId: result.organizationId });
  } else {
    out.write(
      [
        `created user ${email} (${result.userId}), OWNER of organization ${orgName} (${result.slug}, ${result.organizationId})`,
        `user key (shown once, keep it safe): ${userKey}`,
      ].join('\n'),
    );
  }
  return EXIT.OK;
}

export function bootstrapCommand(program: Command, run: (action: () => Promise<number>) => Promise<void>): void {
  program
    .command('bootstrap')
    .description('on an install with no users: create the first user, OWNER of a new organization, and print their user key once')
    .requiredOption('--email <email>', "the first user's email")
    .requiredOption('--name <name>', "the first user's name")
    .requiredOption('--org <name>', "the organization's name")
    .option('--slug <slug>', "the organization's slug (default: made from its name)")
    .option('--password <password>', `the password (visible in shell history and ps: prefer --password-stdin or ${PASSWORD_ENV})`)
    .option('--password-stdin', 'read the password from the first line of standard input')
    .option('--json', 'print {"userKey", "userId", "organizationId"}')
    .action((options: Options) => run(() => runBootstrap(options)));
}
