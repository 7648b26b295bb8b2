import { createPublicKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, importPKCS8, type JWK } from 'jose';
import type { DataSource } from 'typeorm';
import { SigningKeyEntity } from './signing-key.entity';

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

/** The keys kept in the database, made on first start (one instance makes them; the others wait on the lock). */
async function fromDatabase(dataSource: DataSource): Promise<SigningKey[]> {
  const rows = await dataSource.transaction(async (manager) => {
    await manager.query('SELECT pg_advisory_xact_lock(4271033902)');
    const existing = await manager.find(SigningKeyEntity, { order: { createdAt: 'DESC' } });
    if (existing.length > 0) return existing;
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const key = await fromPrivateJwk(await exportJWK(privateKey));
    const row = manager.create(SigningKeyEntity, { kid: key.kid, alg: key.alg, privateJwk: { ...(await exportJWK(privateKey)), kid: key.kid }, publicJwk: { ...key.publicJwk } });
    await manager.save(row);
    return [row];
  });
  return Promise.all(rows.map((row) => fromPrivateJwk(row.privateJwk as unknown as JWK)));
}

export async function loadKeySet(dataSource: DataSource, configured: string | undefined): Promise<KeySet> {
  const keys = configured ? await fromConfiguration(configured) : await fromDatabase(dataSource);
  return {
    signing: keys[0]!,
    byKid: new Map(keys.map((key) => [key.kid, key])),
    jwks: { keys: keys.map((key) => key.publicJwk) },
  };
}
