import type { DataSource } from 'typeorm';
import type { Config } from '../../config';
import type { RequestContext } from '../../context';
import { newSessionSecret, SESSION_SECRET_PATTERN, sha256 } from '../../auth/secrets';
import type { UserEntity } from '../users/user.entity';
import { SessionEntity } from './session.entity';

export const SESSION_COOKIE = 'idgraph_session';

/** Server-side browser sessions: the cookie holds a random secret, the table its digest. */
export class SessionsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly config: Config,
  ) {}

  async start(ctx: RequestContext, user: UserEntity): Promise<void> {
    const secret = newSessionSecret();
    const sessions = this.dataSource.getRepository(SessionEntity);
    // Expired sessions are swept here, per user, rather than by a job: they are never read again.
    await sessions.createQueryBuilder().delete().where('"userId" = :userId AND "expiresAt" <= now()', { userId: user.id }).execute();
    await sessions.insert({
      userId: user.id,
      digest: sha256(secret),
      expiresAt: new Date(Date.now() + this.config.sessionTtlSeconds * 1000),
      clientAddress: ctx.clientAddress,
      userAgent: ctx.userAgent,
    });
    ctx.cookies.set(SESSION_COOKIE, secret, this.config.sessionTtlSeconds);
  }

  /** Ends the session the cookie names, whatever credential the request used, and clears the cookie; idempotent. */
  async end(ctx: RequestContext): Promise<void> {
    if (ctx.sessionCookie && SESSION_SECRET_PATTERN.test(ctx.sessionCookie)) {
      const digest = sha256(ctx.sessionCookie);
      // In a transaction: its commit is what tells the credential cache, here before the answer is sent.
      await this.dataSource.transaction((manager) => manager.delete(SessionEntity, { digest }));
    }
    ctx.cookies.clear(SESSION_COOKIE);
  }
}
