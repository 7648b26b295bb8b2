import { createPublicKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, importPKCS8, type JWK } from 'jose';
import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from '../../logger';
import { SigningKeyEntity } from './signing-key.entity';

/** Taken by whoever creates or rotates the database's keys, so that two instances never make two signing keys. */
const SIGNING_KEY_LOCK = 4_271_033_902;

/** Asymmetric only: HMAC and `none` are never accepted, whatever a token's header says. */
export const ALLOWED_ALGORITHMS = ['EdDSA', 'ES256'] as const;
type Algorithm = (typeof ALLOWED_ALGORITHMS)[number];

export type SigningKey = { kid: string; alg: Algorithm; privateKey: KeyObject; publicKey: KeyObject; publicJwk: JWK };

export type KeySet = {
  /** The key new tokens are signed with. */
  signing: SigningKey;
  /** Every key a token may be verified with, by kid (the signing one included). */
  byKid: Map<string, SigningKey>;
  /** The public JWK set served at /.well-known/jwks.json. */
  jwks: { keys: JWK[] };
};

function algorithmOf(jwk: JWK): Algorithm {
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  throw new Error(`JWT_PRIVATE_KEYS: unsupported key (kty ${jwk.kty}, crv ${jwk.crv}); use Ed25519 or P-256`);
}

async function fromPrivateJwk(jwk: JWK): Promise<SigningKey> {
  if (!jwk.d) throw new Error('JWT_PRIVATE_KEYS: every key must be a private key');
  const alg = algorithmOf(jwk);
  const privateKey = (await importJWK(jwk, alg)) as KeyObject;
  const publicKey = createPublicKey(privateKey);
  const { d: _private, ...publicPart } = jwk;
  const kid = jwk.kid ?? (await calculateJwkThumbprint(publicPart));
  return { kid, alg, privateKey, publicKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** JWT_PRIVATE_KEYS: a JWK set (`{"keys": [...]}`), one JWK, or one or more PEM (PKCS#8) private keys. */
async function fromConfiguration(text: string): Promise<SigningKey[]> {
  if (text.startsWith('{')) {
    const parsed = JSON.parse(text) as { keys?: JWK[] } & JWK;
    return Promise.all((parsed.keys ?? [parsed]).map(fromPrivateJwk));
  }
  const pems = text.match(/-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/g) ?? [];
  if (pems.length === 0) throw new Error('JWT_PRIVATE_KEYS: neither a JWK set nor PEM private keys');
  return Promise.all(
    pems.map(async (pem) => {
      for (const alg of ALLOWED_ALGORITHMS) {
        try {
          return await fromPrivateJwk(await exportJWK(await importPKCS8(pem, alg, { extractable: true })));
        } catch {
          // try the next algorithm
        }
      }
      throw new Error('JWT_PRIVATE_KEYS: a PEM key is neither Ed25519 nor P-256');
    }),
  );
}

/** A new Ed25519 key, saved: it is the newest, so it signs from the next reload on. */
async function insertNewKey(manager: EntityManager): Promise<SigningKeyEntity> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const key = await fromPrivateJwk(await exportJWK(privateKey));
  const row = manager.create(SigningKeyEntity, { kid: key.kid, alg: key.alg, privateJwk: { ...(await exportJWK(privateKey)), kid: key.kid }, publicJwk: { ...key.publicJwk } });
  return manager.save(row);
}

/** Newest first: the first signs, all verify. */
function keysInDatabase(manager: EntityManager): Promise<SigningKeyEntity[]> {
  return manager.find(SigningKeyEntity, { order: { createdAt: 'DESC' } });
}

/** The keys kept in the database, made on first start (one instance makes them; the others wait on the lock). */
async function fromDatabase(dataSource: DataSource): Promise<SigningKey[]> {
  const rows = await dataSource.transaction(async (manager) => {
    await manager.query('SELECT pg_advisory_xact_lock($1)', [SIGNING_KEY_LOCK]);
    const existing = await keysInDatabase(manager);
    return existing.length > 0 ? existing : [await insertNewKey(manager)];
  });
  return Promise.all(rows.map((row) => fromPrivateJwk(row.privateJwk as unknown as JWK)));
}

function keySetOf(keys: SigningKey[]): KeySet {
  return {
    signing: keys[0]!,
    byKid: new Map(keys.map((key) => [key.kid, key])),
    jwks: { keys: keys.map((key) => key.publicJwk) },
  };
}

export async function loadKeySet(dataSource: DataSource, configured: string | undefined): Promise<KeySet> {
  return keySetOf(configured ? await fromConfiguration(configured) : await fromDatabase(dataSource));
}

/** The database's keys as they are now, creating nothing: what a running server reloads. */
export async function readDatabaseKeySet(dataSource: DataSource): Promise<KeySet | null> {
  const rows = await keysInDatabase(dataSource.manager);
  if (rows.length === 0) return null;
  return keySetOf(await Promise.all(rows.map((row) => fromPrivateJwk(row.privateJwk as unknown as JWK))));
}

export type RotationTiming = {
  /** How long a running server may go on signing with a retired key: its reload interval. */
  reloadSeconds: number;
  accessTokenTtlSeconds: number;
  leewaySeconds: number;
};

export type Rotation = { kid: string; retired: string[]; removed: string[] };

/**
 * A retired key may go once nothing it signed can be valid any more. It
 * signed from its creation until its retirement plus one reload interval
 * (servers learn of the rotation at their next reload): access tokens of
 * that window expire ACCESS_TOKEN_TTL_SECONDS (+ leeway) later, and personal
 * access tokens created in that window live until revoked or expired, which
 * may be never. Times are the database's, as the tokens' createdAt are.
 */
const REMOVABLE_KEYS_SQL = `
  SELECT k.kid FROM signing_keys k
   WHERE k."retiredAt" IS NOT NULL
     AND k."retiredAt" + make_interval(secs => $1::int + $2::int + $3::int) < now()
     AND NOT EXISTS (
       SELECT 1 FROM personal_access_tokens p
        WHERE p."createdAt" >= k."createdAt"
          AND p."createdAt" <= k."retiredAt" + make_interval(secs => $1::int)
          AND p."revokedAt" IS NULL
          AND (p."expiresAt" IS NULL OR p."expiresAt" + make_interval(secs => $3::int) > now()))`;

/**
 * A new signing key, the current ones retired (kept for verification), and
 * the retired keys nothing valid depends on any more removed: in one
 * transaction, under the lock that first start takes.
 */
export async function rotateSigningKey(dataSource: DataSource, timing: RotationTiming): Promise<Rotation> {
  return dataSource.transaction(async (manager) => {
    await manager.query('SELECT pg_advisory_xact_lock($1)', [SIGNING_KEY_LOCK]);
    const removable: { kid: string }[] = await manager.query(REMOVABLE_KEYS_SQL, [timing.reloadSeconds, timing.accessTokenTtlSeconds, timing.leewaySeconds]);
    const removed = removable.map((row) => row.kid);
    if (removed.length > 0) await manager.query('DELETE FROM signing_keys WHERE kid = ANY($1)', [removed]);
    const retiredRows: { kid: string }[] = await manager.query('SELECT kid FROM signing_keys WHERE "retiredAt" IS NULL');
    await manager.query('UPDATE signing_keys SET "retiredAt" = now() WHERE "retiredAt" IS NULL');
    const created = await insertNewKey(manager);
    return { kid: created.kid, retired: retiredRows.map((row) => row.kid), removed };
  });
}

/**
 * Keeps a running server's key set in step with the database without a
 * restart: a reload every `intervalSeconds` picks up a rotated signing key,
 * and a token whose kid is unknown triggers one at once (at most one a
 * second, so forged kids cannot turn into a query each), so tokens signed by
 * another instance's newer key verify everywhere straight away. A failed
 * reload keeps the keys it had.
 */
export class SigningKeyReloader {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private lastReloadAt = 0;
  private failing = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly apply: (keys: KeySet) => void,
    private readonly intervalSeconds: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.reload(), this.intervalSeconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** For a kid the set does not hold: reloads unless one ran in the last second; resolves when the set is current. */
  async reloadForUnknownKid(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    if (Date.now() - this.lastReloadAt < 1000) return;
    return this.reload();
  }

  reload(): Promise<void> {
    this.inFlight ??= this.load().finally(() => {
      this.inFlight = undefined;
      this.lastReloadAt = Date.now();
    });
    return this.inFlight;
  }

  private async load(): Promise<void> {
    try {
      const keys = await readDatabaseKeySet(this.dataSource);
      if (keys) this.apply(keys);
      if (this.failing) this.log.info('signing keys reloaded again');
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'could not reload the signing keys; keeping the current ones');
      this.failing = true;
    }
  }
}
