/**
 * The API token of the embedded default when none is configured: generated at first start (256
 * random bits), kept in `<data directory>/api-token` (mode 0600, beside the spool directory) and
 * reused on every later start, so that a viewer configured once keeps working.
 */
import { randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface ApiToken {
  token: string;
  file: string;
  generated: boolean;
}

/** The file that holds the generated token: the spool directory's parent (the data directory). */
export function apiTokenFile(spoolDirectory: string): string {
  return path.join(path.dirname(path.resolve(spoolDirectory)), 'api-token');
}

/** Reads the token file, creating it (0600, exclusive: two starts agree on one token) if absent. */
export async function loadOrCreateApiToken(file: string): Promise<ApiToken> {
  const existing = await readToken(file);
  if (existing) return { token: existing, file, generated: false };
  const token = randomBytes(32).toString('base64url');
  try {
    await writeFile(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const raced = await readToken(file);
    if (raced) return { token: raced, file, generated: false };
    throw error;
  }
  await chmod(file, 0o600); // the umask may have narrowed it further, never widened: make it exact
  return { token, file, generated: true };
}

async function readToken(file: string): Promise<string | undefined> {
  try {
    const token = (await readFile(file, 'utf8')).trim();
    if (token.length < 32)
      throw new Error(`${file}: the API token must have at least 32 characters`);
    return token;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
