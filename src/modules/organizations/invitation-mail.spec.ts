import { OrganizationRole } from '../../auth/rights';
import { invitationMail } from './invitation-mail';

/** Control and format characters (U+202E RIGHT-TO-LEFT OVERRIDE, zero-width, isolates), line and paragraph separators. */
const INVISIBLE = /[\p{Cf}\p{Zl}\p{Zp}]|[^\P{Cc}\n]/u;

describe('invitationMail', () => {
  const hostile = [
    'Acme\u202Eevil',
    'idgraph security \u202Egnp.exe\u202C \u200Bnotice',
    'A\u2066B\u2069C\uFEFF',
    'line\nbreak\r\tand\u2028more\u2029',
  ];

  it.each(hostile)('quotes the organization name %j without control or format characters, in the subject and the text', (organizationName) => {
    const mail = invitationMail({ to: 'x@example.com', organizationName, role: OrganizationRole.ADMIN, inviter: { email: 'boss@example.com' } });
    expect(mail.subject).not.toMatch(INVISIBLE);
    expect(mail.subject).not.toContain('\n');
    expect(mail.text).not.toMatch(INVISIBLE);
    // Every visible word of the name is still there, in the subject and in the text.
    for (const word of organizationName.split(/[^\p{L}\p{N}.]+/u).filter(Boolean)) {
      expect(mail.subject).toContain(word);
      expect(mail.text).toContain(word);
    }
  });

  it('cleans a service user inviter’s name the same way', () => {
    const mail = invitationMail({
      to: 'x@example.com',
      organizationName: 'Acme',
      role: OrganizationRole.VIEWER,
      inviter: { serviceUser: 'bot\u202Etxt.exe' },
    });
    expect(mail.text).not.toMatch(INVISIBLE);
    expect(mail.text).toContain('"bot txt.exe"');
  });

  it('keeps an overlong name to one short line', () => {
    const organizationName = `${'A'.repeat(300)}\u202E`;
    const mail = invitationMail({ to: 'x@example.com', organizationName, role: OrganizationRole.MEMBER, inviter: { email: 'b@example.com' } });
    expect(mail.subject.length).toBeLessThan(140);
    expect(mail.subject).not.toMatch(INVISIBLE);
    expect(mail.to).toEqual(['x@example.com']);
  });
});
