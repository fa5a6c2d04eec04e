/**
 * `lightbox verify`: re-reads every object the index records (stored instances and kept conflicts),
 * re-hashes it and compares its size and SHA-256 with the index. Lists each mismatch and missing
 * object on stdout (object key: the UIDs, an operator's tool, never a log); exit 1 when any.
 */
import { parseArgs } from 'node:util';
import { digestObject } from '../../core/archive/object-digest.js';
import { listIndexedObjects } from '../../core/archive/stored-objects-query.js';
import { isLightboxError } from '../../core/errors.js';
import { withArchive } from '../archive.js';
import type { CliCommand } from '../command.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import { progress } from '../progress.js';

export const verify: CliCommand = {
  name: 'verify',
  summary:
    're-hash every stored object against the index (SHA-256 and size); exit 1 on any problem',
  usage: 'lightbox verify',
  async run(args, io) {
    const { positionals } = parseArgs({ args: [...args], options: {}, allowPositionals: true });
    if (positionals.length > 0) throw new UsageError('verify takes no argument');
    return withArchive(io.config, 'lightbox verify', async ({ index, objects }) => {
      const { instances, conflicts } = await index.counts();
      const bar = progress(io.stderr, 'verify', instances + conflicts);
      let checked = 0;
      let problems = 0;
      for await (const entry of listIndexedObjects(index.sql, { conflicts: true })) {
        const found = await digestObject(objects, entry.objectKey).catch((error: unknown) => {
          if (isLightboxError(error, 'NotFound')) return undefined;
          throw error;
        });
        let problem: string | undefined;
        if (!found) problem = 'missing';
        else if (found.size !== entry.size)
          problem = `size ${found.size}, index says ${entry.size}`;
        else if (found.sha256 !== entry.sha256) problem = 'SHA-256 differs from the index';
        if (problem) {
          problems++;
          io.stdout.write(
            `${problem === 'missing' ? 'MISSING ' : 'MISMATCH'} ${entry.objectKey}: ${problem}\n`,
          );
        }
        bar.tick(++checked);
      }
      bar.finish();
      io.stdout.write(
        `verified ${checked} objects: ${checked - problems} intact, ${problems} with problems\n`,
      );
      return problems === 0 ? ExitCode.Ok : ExitCode.Failure;
    });
  },
};
