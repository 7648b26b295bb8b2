import type { OrganizationRole } from '../../auth/rights';
import type { Mail } from '../../mail/mailer';

/**
 * Names chosen by other people are quoted, cut short and on one line, without
 * control or format characters (a right-to-left override would turn the
 * rest of the line around): they are the inviter's words, not idgraph's.
 */
function quoted(text: string, max = 80): string {
  const flat = text.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+/gu, ' ').replace(/\s+/g, ' ').trim();
  return `"${flat.length > max ? `${flat.slice(0, max - 1)}…` : flat}"`;
}

/**
 * The one mail an invited person receives from an organization before they
 * accept it. It carries no link: an invitation is accepted where the person
 * already uses idgraph, so this mail cannot be used to lead anyone elsewhere.
 */
export function invitationMail(input: {
  to: string;
  organizationName: string;
  role: OrganizationRole;
  inviter: { email: string } | { serviceUser: string };
}): Mail {
  const organization = quoted(input.organizationName);
  const inviter = 'email' in input.inviter ? input.inviter.email : `The service user ${quoted(input.inviter.serviceUser, 40)} of that organization`;
  return {
    to: [input.to],
    subject: `Invitation to the organization ${organization}`,
    text: [
      `${inviter} invited you to join the organization ${organization} as ${input.role}.`,
      'Nothing changes for your account unless you accept: the invitation grants no access until then. ' +
        'Accept or decline it where you use this service (acceptMembership or declineMembership). ' +
        'If you do not know who sent it, decline it or ignore this message.',
    ].join('\n\n'),
  };
}
