/**
 * `lightbox import <folder>`: every file under the folder goes through the same ingest path as a
 * C-STORE (core/ingest: spool → validate header → fsync + rename → queue). "Accepted" means what
 * Success means to a modality: the instance is durable in the spool and queued. The worker archives
 * it: in services mode the running workers at once (`--wait` watches the index until they have); in
 * the embedded mode Lightbox itself, at its next start (the CLI cannot run beside it: the PGlite
 * index is locked, and the spool is the queue). Byte-identical instances already archived are
 * counted as duplicates and not queued again. Exit 1 when a file was refused.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ingestFile, type FileOutcome } from '../../core/ingest/ingest-file.js';
import { createServices, receiverId, type ArchiveServices } from '../../core/services.js';
import type { CliCommand, CliIO } from '../command.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import { progress } from '../progress.js';

const WAIT_POLL_MS = 500;

export const importCommand: CliCommand = {
  name: 'import',
  summary: 'ingest a folder of DICOM files through the C-STORE ingest path (progress on stderr)',
  usage:
    'lightbox import <folder> [--wait]   (--wait: services mode, until the workers archived all)',
  async run(args, io) {
    const { positionals, values } = parseArgs({
      args: [...args],
      options: { wait: { type: 'boolean', default: false } },
      allowPositionals: true,
    });
    if (positionals.length !== 1) throw new UsageError('import takes one folder');
    if (values.wait && io.config.queue.kind === 'in-process') {
      throw new UsageError(
        '--wait needs the services mode: embedded Lightbox archives at its start',
      );
    }
    const files = await filesUnder(positionals[0]);
    const services = await createServices(io.config, io.log, {
      archive: true,
      receiverId: receiverId('cli-import', process.pid),
      owner: 'lightbox import',
    });
    try {
      const summary = await importFiles(files, services, io);
      if (values.wait) await waitArchived(summary.accepted, services, io);
      return summary.refused > 0 ? ExitCode.Failure : ExitCode.Ok;
    } finally {
      await services.close();
    }
  },
};

async function importFiles(files: string[], services: ArchiveServices, io: CliIO) {
  const bar = progress(io.stderr, 'import', files.length);
  const accepted: string[] = [];
  let duplicates = 0;
  let refused = 0;
  let done = 0;
  for (const file of files) {
    const result: FileOutcome = await ingestFile(file, {
      ...services,
      maxInstanceBytes: io.config.gateway.maxInstanceBytes,
    });
    if (result.outcome === 'accepted') accepted.push(result.accepted.job.SOPInstanceUID);
    else if (result.outcome === 'duplicate') duplicates++;
    else {
      refused++;
      io.stdout.write(`REFUSED ${file}: ${result.code} (${result.message})\n`);
    }
    bar.tick(++done);
  }
  bar.finish();
  io.stdout.write(
    `imported ${files.length} files: ${accepted.length} accepted, ${duplicates} duplicates, ${refused} refused\n`,
  );
  if (accepted.length > 0 && io.config.queue.kind === 'in-process') {
    io.stdout.write('queued in the spool: Lightbox archives them when it starts\n');
  }
  return { accepted, refused };
}

/** Polls the index until every accepted SOP Instance UID is stored (services mode). */
async function waitArchived(uids: string[], services: ArchiveServices, io: CliIO): Promise<void> {
  const bar = progress(io.stderr, 'archived', uids.length);
  let left = uids;
  while (left.length > 0) {
    const rows = await Promise.all(left.map((uid) => services.index.getInstance(uid)));
    left = left.filter((_, i) => rows[i]?.state !== 'stored');
    bar.tick(uids.length - left.length);
    if (left.length > 0) await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
  }
  bar.finish();
  io.stdout.write(`archived ${uids.length} instances\n`);
}

/** Regular files under `folder`, recursively, in name order (hidden files included). */
async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true }).catch(
    (error: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read ${folder}: ${error.code ?? error.message}`);
    },
  );
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath ?? e.path, e.name))
    .sort();
}
