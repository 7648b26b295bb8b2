import type { DataSource } from 'typeorm';
import { CredentialKind, isAccountCredential } from '../../auth/principal';
import { newUserKey, sha256 } from '../../auth/secrets';
import type { RateLimits } from '../../common/rate-limits';
import type { RequestContext } from '../../context';
import { uniqueViolation } from '../../db/errors';
import { DomainError, ErrorCode, conflict, forbidden } from '../../errors';
import { AuditEventType, type AuditService } from '../audit/audit.service';
import type { SessionsService } from '../sessions/sessions.service';
import { decoyHash, hashPassword, verifyPassword } from './password';
import { UserEntity } from './user.entity';
import { checkName, checkPassword, couldBeEmail, normalizeEmail } from './validation';

export type SignUpInput = { email: string; password: string; name: string };
export type LogInInput = { email: string; password: string };

export class UsersService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly sessions: SessionsService,
    private readonly rateLimits: RateLimits,
    private readonly audit: AuditService,
  ) {}

  private get users() {
    return this.dataSource.getRepository(UserEntity);
  }

  /** Creates the account and returns its user key, the only time the key is ever shown. */
  async signUp(ctx: RequestContext, input: SignUpInput): Promise<{ user: UserEntity; userKey: string }> {
    const email = normalizeEmail(input.email);
    const password = checkPassword(input.password);
    const name = checkName('name', input.name, 200);
    await this.rateLimits.consumeSignUp(ctx.clientAddress);
    const userKey = newUserKey();
    const passwordHash = await hashPassword(password);
    try {
      const user = await this.users.save(this.users.create({ email, name, passwordHash, userKeyDigest: sha256(userKey), isActive: true }));
      return { user, userKey };
    } catch (error) {
      if (uniqueViolation(error) === 'UQ_users_email') throw conflict('email: an account with this email already exists');
      throw error;
    }
  }

  /** One answer for an unknown email, a wrong password and an inactive account. */
  async logIn(ctx: RequestContext, input: LogInInput): Promise<UserEntity> {
    await this.rateLimits.consumeLogin(ctx.clientAddress);
    const email = input.email.trim().toLowerCase();
    const user = couldBeEmail(email) ? await this.users.findOneBy({ email }) : null;
    const passwordMatches = await verifyPassword(user?.passwordHash ?? (await decoyHash()), input.password);
    if (!user || !passwordMatches || !user.isActive) {
      throw new DomainError(ErrorCode.UNAUTHENTICATED, 'invalid email or password');
    }
    await this.sessions.start(ctx, user);
    return user;
  }

  async logOut(ctx: RequestContext): Promise<void> {
    await this.sessions.end(ctx);
  }

  /** A new key; the old one stops working at once. */
  async regenerateUserKey(ctx: RequestContext): Promise<string> {
    const principal = ctx.principal;
    if (!principal || !isAccountCredential(principal) || (principal.credential !== CredentialKind.SESSION && principal.credential !== CredentialKind.USER_KEY)) {
      throw forbidden('only a user signed in with a session or the user key can regenerate it');
    }
    await this.rateLimits.consumeTokenIssue(principal.id);
    const userKey = newUserKey();
    await this.dataSource.transaction(async (manager) => {
      await manager.update(UserEntity, { id: principal.id }, { userKeyDigest: sha256(userKey) });
      // An account event: it belongs to no organization's log, and is kept with a null organization.
      await this.audit.record(manager, ctx, { organizationId: null, eventType: AuditEventType.USER_KEY_REGENERATED, targetType: 'user', targetId: principal.id });
    });
    return userKey;
  }
}
