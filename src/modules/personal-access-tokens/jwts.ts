import { createHash, randomUUID } from 'node:crypto';
import { decodeProtectedHeader, errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { LRUCache } from 'lru-cache';
import type { KeySet } from './signing-keys';

export type JwtKind = 'refresh' | 'access';

export type VerifiedJwt = { kind: JwtKind; sub: string; jti: string; exp: number | undefined; pat: string | undefined; payload: JWTPayload };

/** Why a JWT was refused, in words fit for the client. */
export class JwtRefusal extends Error {}

export type JwtOptions = { issuer: string; audience: string; leewaySeconds: number; accessTokenTtlSeconds: number };

/** Header parameters that point at keys elsewhere: never followed, and a token carrying one is refused. */
const FOREIGN_KEY_HEADERS = ['jku', 'jwk', 'x5u', 'x5c'];

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

/**
 * Signs and verifies idgraph's JWTs: personal access tokens (`token_type:
 * refresh`) and access tokens (`typ: at+jwt`, RFC 9068, `token_type: access`).
 * Verification takes the key from the known set by `kid` only, with the
 * algorithm that key has; `iss`, `aud`, `exp` and `nbf` are checked with a
 * small leeway, and an access token may not be issued in the future nor live
 * longer than ACCESS_TOKEN_TTL_SECONDS (plus the leeway).
 */
export class Jwts {
  /** Asked once when a token names a kid the set lacks: the set may have been rotated since it was loaded. */
  private onUnknownKid: (() => Promise<void>) | undefined;
  /**
   * Access tokens already verified, by the SHA-256 of the token, until they
   * expire: the same token's signature is checked once, not on every request.
   * Forgotten when the key set changes, so a key taken out stops its tokens.
   */
  private readonly verifiedAccess: LRUCache<string, VerifiedJwt> | null;

  constructor(
    private keys: KeySet,
    private readonly options: JwtOptions,
    private readonly now: () => Date,
    /** How many verified access tokens to remember; 0 checks every signature every time. */
    rememberVerified = 0,
  ) {
    this.verifiedAccess = rememberVerified > 0 ? new LRUCache({ max: rememberVerified }) : null;
  }

  get jwks() {
    return this.keys.jwks;
  }

  /** The kid new tokens are signed with. */
  get signingKid(): string {
    return this.keys.signing.kid;
  }

  /** A rotated set: the next token is signed with its signing key. */
  replaceKeys(keys: KeySet): void {
    this.keys = keys;
    this.verifiedAccess?.clear();
  }

  reloadOnUnknownKid(reload: () => Promise<void>): void {
    this.onUnknownKid = reload;
  }

  signRefresh(claims: { sub: string; jti: string; expiresAt: Date | null }): Promise<string> {
    const { signing } = this.keys;
    const jwt = new SignJWT({ token_type: 'refresh' })
      .setProtectedHeader({ alg: signing.alg, kid: signing.kid, typ: 'JWT' })
      .setSubject(claims.sub)
      .setJti(claims.jti)
      .setIssuedAt(seconds(this.now()))
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience);
    if (claims.expiresAt) jwt.setExpirationTime(seconds(claims.expiresAt));
    return jwt.sign(signing.privateKey);
  }

  async signAccess(claims: { sub: string; pat: string }): Promise<{ token: string; jti: string; expiresAt: Date }> {
    const { signing } = this.keys;
    const issuedAt = seconds(this.now());
    const expiresAt = new Date((issuedAt + this.options.accessTokenTtlSeconds) * 1000);
    const jti = randomUUID();
    const token = await new SignJWT({ token_type: 'access', pat: claims.pat })
      .setProtectedHeader({ alg: signing.alg, kid: signing.kid, typ: 'at+jwt' })
      .setSubject(claims.sub)
      .setJti(jti)
      .setIssuedAt(issuedAt)
      .setExpirationTime(seconds(expiresAt))
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience)
      .sign(signing.privateKey);
    return { token, jti, expiresAt };
  }

  async verify(token: string): Promise<VerifiedJwt> {
    if (!this.verifiedAccess) return this.verifySignatureAndClaims(token);
    const digest = createHash('sha256').update(token).digest('base64');
    const remembered = this.verifiedAccess.get(digest);
    // Past its exp (and the leeway) a remembered token is checked again, which refuses it as expired.
    if (remembered && (remembered.exp! + this.options.leewaySeconds) * 1000 > this.now().getTime()) return remembered;
    const verified = await this.verifySignatureAndClaims(token);
    if (verified.kind === 'access') this.verifiedAccess.set(digest, verified);
    return verified;
  }

  private async verifySignatureAndClaims(token: string): Promise<VerifiedJwt> {
    let header;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new JwtRefusal('malformed token');
    }
    if (token.split('.').length !== 3) throw new JwtRefusal('malformed token');
    if (FOREIGN_KEY_HEADERS.some((name) => name in header)) throw new JwtRefusal('untrusted key reference in the token header');
    if (typeof header.kid !== 'string') throw new JwtRefusal('unknown signing key');
    let key = this.keys.byKid.get(header.kid);
    if (!key && this.onUnknownKid) {
      await this.onUnknownKid();
      key = this.keys.byKid.get(header.kid);
    }
    if (!key) throw new JwtRefusal('unknown signing key');
    if (header.alg !== key.alg) throw new JwtRefusal('unexpected signing algorithm');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key.publicKey, {
        algorithms: [key.alg],
        issuer: this.options.issuer,
        audience: this.options.audience,
        clockTolerance: this.options.leewaySeconds,
        currentDate: this.now(),
        requiredClaims: ['sub', 'jti', 'iat'],
      }));
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw new JwtRefusal('token expired');
      if (error instanceof errors.JWTClaimValidationFailed) throw new JwtRefusal(`invalid ${error.claim} claim`);
      if (error instanceof errors.JWSSignatureVerificationFailed) throw new JwtRefusal('invalid signature');
      throw new JwtRefusal('malformed token');
    }
    const kind = payload.token_type;
    if (kind === 'access') {
      if (header.typ !== 'at+jwt') throw new JwtRefusal('invalid typ header');
      if (payload.exp === undefined) throw new JwtRefusal('missing exp claim');
      if (typeof payload.pat !== 'string') throw new JwtRefusal('missing pat claim');
      // idgraph never issues one that lives longer: such a token was minted elsewhere with the key, and would stay valid as long as it says.
      const { leewaySeconds, accessTokenTtlSeconds } = this.options;
      if (payload.iat! > seconds(this.now()) + leewaySeconds) throw new JwtRefusal('invalid iat claim: issued in the future');
      if (payload.exp - payload.iat! > accessTokenTtlSeconds + leewaySeconds) throw new JwtRefusal('invalid exp claim: longer than an access token lives');
    } else if (kind !== 'refresh') {
      throw new JwtRefusal('invalid token_type claim');
    }
    return { kind, sub: payload.sub!, jti: payload.jti!, exp: payload.exp, pat: payload.pat as string | undefined, payload };
  }
}
