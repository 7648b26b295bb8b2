import type { DataSource } from 'typeorm';
import type { Logger } from '../../logger';
import type { Mailer } from '../../mail/mailer';

type DueToken = {
  id: string;
  name: string;
  tokenPrefix: string;
  expiresAt: Date;
  organizationId: string;
  organizationName: string;
  ownerEmail: string | null;
};

/**
 * Finds tokens that expire within their organization's `notifyDaysBeforeExpiry`
 * and mails each once: to its owner (a service user has none: its
 * organization's admins stand in) and to the organization's OWNERs and ADMINs.
 * Safe with several instances: a notice is claimed by inserting its row
 * (unique per token and expiry) before it is sent, so only one instance sends
 * it. Without SMTP_URL the notice is recorded and logged only. Only active
 * members receive it: an invited person has not accepted the organization, and
 * one who left is no longer its concern.
 */
export class ExpiryNotifier {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  /** Told of every run (`ok` or `failed`) and every mail sent: the metrics count them. */
  onRun: (result: 'ok' | 'failed') => void = () => undefined;
  onMailSent: () => void = () => undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly mailer: Mailer,
    private readonly options: { intervalSeconds: number },
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.options.intervalSeconds === 0) return;
    this.timer = setInterval(() => {
      this.running = this.runOnce().catch((error: unknown) => this.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'expiry notification run failed'));
    }, this.options.intervalSeconds * 1000);
    this.timer.unref();
  }

  /** No further run; waits for one in progress, so that the pool is not closed under it. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass; returns how many notices this instance claimed. */
  async runOnce(): Promise<number> {
    try {
      const claimed = await this.notifyDue();
      this.onRun('ok');
      return claimed;
    } catch (error) {
      this.onRun('failed');
      throw error;
    }
  }

  private async notifyDue(): Promise<number> {
    const due: DueToken[] = await this.dataSource.query(
      `SELECT t.id, t.name, t."tokenPrefix", t."expiresAt", t."organizationId", o.name AS "organizationName", u.email AS "ownerEmail"
         FROM api_tokens t
         JOIN token_expiration_policies p ON p."organizationId" = t."organizationId"
         JOIN organizations o ON o.id = t."organizationId"
         LEFT JOIN users u ON u.id = t."ownerUserId" AND u."isActive"
              AND EXISTS (SELECT 1 FROM memberships om WHERE om."organizationId" = t."organizationId" AND om."userId" = u.id AND om.status = 'ACTIVE')
        WHERE p."notifyDaysBeforeExpiry" IS NOT NULL
          AND t."revokedAt" IS NULL
          AND t."expiresAt" > now()
          AND t."expiresAt" <= now() + make_interval(days => p."notifyDaysBeforeExpiry")
          AND NOT EXISTS (SELECT 1 FROM token_expiry_notifications n WHERE n."apiTokenId" = t.id AND n."expiresAt" = t."expiresAt")
        ORDER BY t."expiresAt"
        LIMIT 500`,
    );
    let claimed = 0;
    for (const token of due) {
      const recipients = await this.recipientsOf(token);
      const [claim]: { id: string }[] = await this.dataSource.query(
        `INSERT INTO token_expiry_notifications ("apiTokenId", "expiresAt", recipients) VALUES ($1, $2, $3)
         ON CONFLICT ("apiTokenId", "expiresAt") DO NOTHING RETURNING id`,
        [token.id, token.expiresAt, recipients],
      );
      if (!claim) continue;
      claimed += 1;
      await this.send(token, recipients, claim.id);
    }
    return claimed;
  }

  private async recipientsOf(token: DueToken): Promise<string[]> {
    const admins: { email: string }[] = await this.dataSource.query(
      `SELECT u.email FROM memberships m JOIN users u ON u.id = m."userId"
        WHERE m."organizationId" = $1 AND m.role IN ('OWNER', 'ADMIN') AND m.status = 'ACTIVE' AND u."isActive" ORDER BY u.email`,
      [token.organizationId],
    );
    return [...new Set([...(token.ownerEmail ? [token.ownerEmail] : []), ...admins.map((admin) => admin.email)])];
  }

  private async send(token: DueToken, recipients: string[], claimId: string): Promise<void> {
    const expiresAt = new Date(token.expiresAt).toISOString();
    if (!this.mailer.configured) {
      this.log.info({ apiTokenId: token.id, tokenPrefix: token.tokenPrefix, expiresAt, recipients: recipients.length }, 'token expiry notice recorded (no SMTP_URL set)');
      return;
    }
    try {
      await this.mailer.send({
        to: recipients,
        subject: `API token "${token.name}" of ${token.organizationName} expires on ${expiresAt.slice(0, 10)}`,
        text: [
          `The API token "${token.name}" (${token.tokenPrefix}…) of the organization ${token.organizationName} expires at ${expiresAt}.`,
          'Create a new token, or regenerate this one, before then to avoid an interruption.',
        ].join('\n\n'),
      });
      this.onMailSent();
      await this.dataSource.query(`UPDATE token_expiry_notifications SET "sentAt" = now() WHERE id = $1`, [claimId]);
    } catch (error) {
      // Give the claim back, so a later run (on any instance) tries again.
      await this.dataSource.query(`DELETE FROM token_expiry_notifications WHERE id = $1`, [claimId]);
      this.log.warn({ apiTokenId: token.id, err: error instanceof Error ? error.message : String(error) }, 'token expiry notice not sent');
    }
  }
}
