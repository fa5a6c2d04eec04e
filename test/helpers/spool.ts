/**
 * What is in a spool folder, for tests: the files below `<spool>/<sub>` as relative paths (incoming/
 * holds one folder per receiving process).
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';

export async function spoolEntries(spoolDirectory: string, sub: string): Promise<string[]> {
  const entries = await readdir(path.join(spoolDirectory, sub), {
    recursive: true,
    withFileTypes: true,
  }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) =>
      path.relative(path.join(spoolDirectory, sub), path.join(e.parentPath ?? e.path, e.name)),
    )
    .sort();
}
