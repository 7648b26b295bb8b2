import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from '../logger';

export type Mail = { to: string[]; subject: string; text: string };

/** How long shutdown waits for mails still being handed to the SMTP server. */
const CLOSE_WAIT_MS = 5000;

/**
 * idgraph's one way out to people: nodemailer over SMTP_URL. Without
 * SMTP_URL nothing is sent and each mail is logged (recipients counted, never
 * listed), so a development setup shows what would have gone out.
 */
export class Mailer {
  private readonly transport: Transporter | undefined;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    smtpUrl: string | undefined,
    private readonly from: string,
    private readonly log: Logger,
  ) {
    this.transport = smtpUrl ? nodemailer.createTransport(smtpUrl) : undefined;
  }

  get configured(): boolean {
    return this.transport !== undefined;
  }

  /** Sends now; throws when the SMTP server refuses or cannot be reached. False when no SMTP server is configured. */
  async send(mail: Mail): Promise<boolean> {
    if (!this.transport) return false;
    await this.transport.sendMail({ from: this.from, to: mail.to, subject: mail.subject, text: mail.text });
    return true;
  }

  /**
   * Sends without holding up the request that caused it: a notice whose loss
   * costs nothing that the API does not also show (an invitation is listed
   * in `me.memberships` either way). A failure is logged with `about`.
   */
  deliver(mail: Mail, about: Record<string, unknown>, what: string): void {
    if (!this.transport) {
      this.log.info({ ...about, recipients: mail.to.length, subject: mail.subject }, `${what} recorded (no SMTP_URL set)`);
      return;
    }
    const sending = this.send(mail)
      .then(() => this.log.debug({ ...about, recipients: mail.to.length }, `${what} sent`))
      .catch((error: unknown) => this.log.warn({ ...about, err: error instanceof Error ? error.message : String(error) }, `${what} not sent`))
      .finally(() => this.pending.delete(sending));
    this.pending.add(sending);
  }

  /** Waits a little for mails being sent, then closes the connections. */
  async close(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.pending]), new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)))]);
    clearTimeout(timer);
    this.transport?.close();
  }
}
