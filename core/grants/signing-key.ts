/**
 * The local JWT signing key (ES256): generated at first start, kept as a private JWK in the data
 * directory (mode 0600, created exclusively so that two starts agree on one key), reused after.
 * It signs the CLI's tokens (`lightbox token`), the first start's sign-in link and share-link
 * sessions; core/grants/tokens.ts verifies with its public half.
 */
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { Config } from '../../config/schema.js';

export const SIGNING_ALGORITHM = 'ES256';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  file: string;
  generated: boolean;
}

/** auth.signingKeyFile, or auth-signing-key.json in the data directory (the spool's parent). */
export function signingKeyFile(config: Pick<Readonly<Config>, 'auth' | 'spool'>): string {
  return (
    config.auth.signingKeyFile ??
    path.join(path.dirname(path.resolve(config.spool.directory)), 'auth-signing-key.json')
  );
}

export async function loadOrCreateSigningKey(file: string): Promise<SigningKey> {
  const existing = await readJwk(file);
  if (existing) return fromJwk(existing, file, false);
  const { privateKey } = await generateKeyPair(SIGNING_ALGORITHM, { extractable: true });
  const jwk = await exportJWK(privateKey);
  jwk.kid = await calculateJwkThumbprint(jwk);
  jwk.alg = SIGNING_ALGORITHM;
  await mkdirFor(file);
  try {
    await writeFile(file, `${JSON.stringify(jwk)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const raced = await readJwk(file);
    if (raced) return fromJwk(raced, file, false);
    throw error;
  }
  await chmod(file, 0o600);
  return fromJwk(jwk, file, true);
}

async function mkdirFor(file: string): Promise<void> {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(path.dirname(file), { recursive: true });
}

async function fromJwk(jwk: JWK, file: string, generated: boolean): Promise<SigningKey> {
  const privateKey = (await importJWK(jwk, SIGNING_ALGORITHM)) as CryptoKey;
  const { kty, crv, x, y, kid } = jwk;
  return {
    kid: kid ?? (await calculateJwkThumbprint(jwk)),
    privateKey,
    publicJwk: { kty, crv, x, y, kid, alg: SIGNING_ALGORITHM },
    file,
    generated,
  };
}

async function readJwk(file: string): Promise<JWK | undefined> {
  try {
    const jwk = JSON.parse(await readFile(file, 'utf8')) as JWK;
    if (jwk.kty !== 'EC' || !jwk.d) throw new Error(`${file}: not a private EC JWK`);
    return jwk;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
