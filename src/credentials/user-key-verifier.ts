import { CredentialKind } from '../auth/principal';
import { sha256, USER_KEY_PATTERN } from '../auth/secrets';
import type { CredentialCache } from './credential-cache';
import type { CredentialRecords } from './credential-records';
import { accountPrincipal } from './principals';
import { refused, verified, type Verification } from './verification';

/** The DRF-style user key: one indexed lookup by digest on first use, then none. */
export class UserKeyVerifier {
  constructor(
    private readonly records: CredentialRecords,
    private readonly cache: CredentialCache,
  ) {}

  async verify(key: string): Promise<Verification> {
    if (!USER_KEY_PATTERN.test(key)) return refused('malformed', 'invalid token format: a user key is 40 lowercase hexadecimal characters');
    const digest = sha256(key);
    const user = await this.cache.through(`k:${digest.toString('base64')}`, () => this.records.userByKeyDigest(digest), (found) => [`u:${found.id}`]);
    if (!user) return refused('unknown', 'invalid or expired token');
    if (!user.isActive) return refused('revoked', 'invalid token: the user is inactive');
    return verified(accountPrincipal(user, CredentialKind.USER_KEY));
  }
}
