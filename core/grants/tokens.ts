/**
 * Bearer JWTs (RFC 7519) signed and verified with jose. Verification accepts the local signing key
 * (by kid) and, when configured, an external issuer's JWKS URL or public keys; always with the
 * configured issuer and audience, an `exp`, and asymmetric algorithms only (no `none`, no HMAC).
 * Share-link sessions use their own audience, so that they are never taken for an account's token.
 */
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  exportJWK,
  importJWK,
  importSPKI,
  jwtVerify,
  SignJWT,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import type { AuthConfig } from '../../config/schema.js';
import { LightboxError } from '../errors.js';
import { SIGNING_ALGORITHM, type SigningKey } from './signing-key.js';

const ALGORITHMS = ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA'];

export interface TokenClaims {
  sub: string;
  kind: string;
  organisationId?: string;
}

export class TokenService {
  private constructor(
    private readonly config: AuthConfig,
    private readonly key: SigningKey,
    private readonly localPublic: CryptoKey,
    private readonly external: JWTVerifyGetKey | undefined,
  ) {}

  static async create(config: AuthConfig, key: SigningKey): Promise<TokenService> {
    const localPublic = (await importJWK(key.publicJwk, SIGNING_ALGORITHM)) as CryptoKey;
    let external: JWTVerifyGetKey | undefined;
    if (config.jwksUrl) external = createRemoteJWKSet(new URL(config.jwksUrl));
    else if (config.publicKeys.length > 0) {
      external = createLocalJWKSet({ keys: await Promise.all(config.publicKeys.map(toJwk)) });
    }
    return new TokenService(config, key, localPublic, external);
  }

  /** A token for an account or organisation, valid `ttlSeconds`. */
  async sign(claims: TokenClaims, ttlSeconds = this.config.tokenTtlSeconds) {
    return this.signFor(this.config.audience, claims, Math.floor(Date.now() / 1000) + ttlSeconds);
  }

  /** The session a share link's PIN unlocks: kind share-link, its own audience. */
  async signShareSession(shareLinkId: string, linkExpiresAt: string | null) {
    let exp = Math.floor(Date.now() / 1000) + this.config.shareLinkSessionSeconds;
    if (linkExpiresAt) exp = Math.min(exp, Math.floor(Date.parse(linkExpiresAt) / 1000));
    return this.signFor(shareAudience(this.config), { sub: shareLinkId, kind: 'share-link' }, exp);
  }

  /** The verified claims of an account or organisation token; Unauthorized otherwise. */
  verify(token: string): Promise<JWTPayload> {
    return this.verifyFor(token, this.config.audience);
  }

  /** The share link id of a verified share-link session; Unauthorized otherwise. */
  async verifyShareSession(token: string): Promise<string> {
    const payload = await this.verifyFor(token, shareAudience(this.config), false);
    if (payload.kind !== 'share-link' || typeof payload.sub !== 'string') {
      throw new LightboxError('Unauthorized', 'not a share-link session');
    }
    return payload.sub;
  }

  private async signFor(audience: string, claims: TokenClaims, exp: number) {
    const token = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: this.key.kid, typ: 'JWT' })
      .setIssuer(this.config.issuer)
      .setAudience(audience)
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(this.key.privateKey);
    return { token, expiresAt: new Date(exp * 1000).toISOString() };
  }

  private async verifyFor(token: string, audience: string, external = true): Promise<JWTPayload> {
    const getKey: JWTVerifyGetKey = async (header, input) => {
      if (header.kid === this.key.kid) return this.localPublic;
      if (external && this.external) return this.external(header, input);
      throw new Error('no key for this token');
    };
    try {
      const { payload } = await jwtVerify(token, getKey, {
        issuer: this.config.issuer,
        audience,
        algorithms: ALGORITHMS,
        requiredClaims: ['exp', 'sub'],
        clockTolerance: this.config.clockToleranceSeconds,
      });
      return payload;
    } catch (error) {
      throw new LightboxError('Unauthorized', 'invalid bearer token', { cause: error });
    }
  }
}

function shareAudience(config: AuthConfig): string {
  return `${config.audience}/share-link`;
}

/** A configured public key (JWK JSON or SPKI PEM) as a JWK with its algorithm. */
async function toJwk(text: string): Promise<JWK> {
  if (text.trim().startsWith('{')) return JSON.parse(text) as JWK;
  for (const alg of ALGORITHMS) {
    try {
      return { ...(await exportJWK(await importSPKI(text, alg))), alg };
    } catch {
      // not a key of this algorithm: try the next
    }
  }
  throw new Error('auth.publicKeys: a key is neither a JWK nor an SPKI PEM');
}
