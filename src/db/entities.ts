import { ApiTokenEntity } from '../modules/api-tokens/api-token.entity';
import { ExpiryNotificationEntity } from '../modules/api-tokens/expiry-notification.entity';
import { RetiredSecretEntity } from '../modules/api-tokens/retired-secret.entity';
import { TokenExpirationPolicyEntity } from '../modules/api-tokens/token-expiration-policy.entity';
import { AuditEventEntity } from '../modules/audit/audit-event.entity';
import { MembershipEntity } from '../modules/organizations/membership.entity';
import { OrganizationEntity } from '../modules/organizations/organization.entity';
import { PersonalAccessTokenEntity } from '../modules/personal-access-tokens/personal-access-token.entity';
import { SigningKeyEntity } from '../modules/personal-access-tokens/signing-key.entity';
import { ServiceUserEntity } from '../modules/service-users/service-user.entity';
import { SessionEntity } from '../modules/sessions/session.entity';
import { UserEntity } from '../modules/users/user.entity';

export const ENTITIES = [
  UserEntity,
  SessionEntity,
  OrganizationEntity,
  MembershipEntity,
  ServiceUserEntity,
  ApiTokenEntity,
  RetiredSecretEntity,
  TokenExpirationPolicyEntity,
  ExpiryNotificationEntity,
  PersonalAccessTokenEntity,
  SigningKeyEntity,
  AuditEventEntity,
];
