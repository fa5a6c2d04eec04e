/**
 * A new PGlite data directory for a test, copied from one made once per PGlite version (in the
 * system's temporary directory, shared by every test process) instead of made by initdb each time:
 * initdb costs about 7 s of WASM per directory, and the suite makes dozens; a copy takes 0.1 s.
 * The template is made by Lightbox's own initialiseDataDirectory (pglite-thread-client.ts), so
 * what opens it cannot tell. The tests of that path itself (pglite-durability) do not use this.
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initialiseDataDirectory } from '../../core/archive/pglite-thread-client.js';

let template: Promise<string> | undefined;

/** Puts an initialised data directory at `directory` unless one is there already. */
export async function seedPgliteDirectory(directory: string): Promise<void> {
  if (existsSync(path.join(directory, 'PG_VERSION'))) return;
  const source = await (template ??= makeTemplate());
  await mkdir(path.dirname(directory), { recursive: true });
  await cp(source, directory, { recursive: true });
}

async function makeTemplate(): Promise<string> {
  const manifest = fileURLToPath(
    new URL('../../node_modules/@electric-sql/pglite/package.json', import.meta.url),
  );
  const { version } = JSON.parse(await readFile(manifest, 'utf8')) as { version: string };
  const final = path.join(os.tmpdir(), `lightbox-test-pglite-template-${version}`);
  if (existsSync(path.join(final, 'PG_VERSION'))) return final;
  // Made beside it and renamed into place: a test process never sees half a template, and when
  // two make one at once the first rename wins.
  const staging = await mkdtemp(path.join(os.tmpdir(), 'lightbox-test-pglite-staging-'));
  try {
    const data = path.join(staging, 'data');
    await initialiseDataDirectory(data);
    await rename(data, final).catch((error: NodeJS.ErrnoException) => {
      if (!existsSync(path.join(final, 'PG_VERSION'))) throw error;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return final;
}
