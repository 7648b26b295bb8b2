import type { OrganizationRole } from '../../auth/rights';
import type { Mail } from '../../mail/mailer';

/** Names chosen by other people are quoted and cut short, and on one line: they are the inviter's words, not idgraph's. */
function quoted(text: string, max = 80): string {
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim();
  return `"${flat.length > max ? `${flat.slice(0, max - 1)}…` : flat}"`;
}

/**
 * The one mail an invited person receives from an organization before they
 * accept it. It carries no link: an invitation is accepted where the person
 * already uses idgraph, so this mail cannot be used to lead anyone elsewhere.
 */
export function invitationMail(input: { to: string; organizationName: string; role: OrganizationRole; inviter: string | null }): Mail {
  const organization = quoted(input.organizationName);
  return {
    to: [input.to],
    subject: `Invitation to the organization ${organization}`,
    text: [
      `${input.inviter ?? 'An administrator'} invited you to join the organization ${organization} as ${input.role}.`,
      'Nothing changes for your account unless you accept: the invitation grants no access until then. ' +
        'Accept or decline it where you use this service (acceptMembership or declineMembership). ' +
        'If you do not know who sent it, decline it or ignore this message.',
    ].join('\n\n'),
  };
}
