/**
 * `lightbox reindex`: rebuilds the index from the object store (instances under studies/, kept
 * conflicts under conflicts/), for when the index was lost or is behind. Idempotent: a second run
 * reports every object unchanged. Objects it cannot index (not DICOM, or stored under a key their
 * UIDs do not give) are listed; exit 1 when any.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { reindexObject, type ReindexOutcome } from '../../core/archive/reindex-object.js';
import { withArchive } from '../archive.js';
import type { CliCommand } from '../command.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import { progress } from '../progress.js';

export const reindex: CliCommand = {
  name: 'reindex',
  summary: 'rebuild the index from the stored objects (after an index loss); idempotent',
  usage: 'lightbox reindex',
  async run(args, io) {
    const { positionals } = parseArgs({ args: [...args], options: {}, allowPositionals: true });
    if (positionals.length > 0) throw new UsageError('reindex takes no argument');
    // Objects are copied here to be parsed: beside the spool, on the data disk, not in /tmp.
    const temporaryDirectory = path.join(io.config.spool.directory, 'reindex');
    await mkdir(temporaryDirectory, { recursive: true });
    try {
      return await withArchive(io.config, 'lightbox reindex', async ({ index, objects }) => {
        const counts: Record<ReindexOutcome | 'unreadable', number> = {
          indexed: 0,
          unchanged: 0,
          conflict: 0,
          'conflict-recorded': 0,
          misplaced: 0,
          unreadable: 0,
        };
        const bar = progress(io.stderr, 'reindex', 0);
        let done = 0;
        for (const prefix of ['studies/', 'conflicts/']) {
          for await (const { key } of objects.listObjects(prefix)) {
            const outcome = await reindexObject(key, { objects, index, temporaryDirectory }).catch(
              (error: unknown) => {
                const code = (error as { code?: unknown }).code;
                if (code === 'InvalidDataset' || code === 'InvalidUID')
                  return 'unreadable' as const;
                throw error;
              },
            );
            counts[outcome]++;
            if (['conflict', 'misplaced', 'unreadable'].includes(outcome)) {
              io.stdout.write(`${outcome.toUpperCase()} ${key}\n`);
            }
            bar.tick(++done);
          }
        }
        bar.finish();
        io.stdout.write(
          `reindexed ${done} objects: ${Object.entries(counts)
            .map(([k, v]) => `${v} ${k}`)
            .join(', ')}\n`,
        );
        const problems = counts.conflict + counts.misplaced + counts.unreadable;
        return problems === 0 ? ExitCode.Ok : ExitCode.Failure;
      });
    } finally {
      await rm(temporaryDirectory, { recursive: true, force: true });
    }
  },
};
