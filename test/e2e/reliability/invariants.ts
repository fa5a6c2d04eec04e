/**
 * The reliability suite's one verdict, read from outside Lightbox (PostgreSQL, S3, the spool
 * directory, Redis), after the archive has settled:
 * - every instance a sender got Success for is indexed (state 'stored'), and its object's bytes are
 *   the data set sent, with the SHA-256 the index records;
 * - nothing is half done: no pending row, no conflict, exactly one object per indexed instance (no
 *   orphan), spool ready/, incoming/ and failed/ empty, no job waiting or failed.
 * Returns the violations as sentences (an empty list is a pass) so that the test and the benchmark
 * report the same thing.
 */
import { readFile } from 'node:fs/promises';
import { jobCounts } from '../../helpers/bullmq.js';
import {
  datasetOf,
  instanceRows,
  listS3Keys,
  pgQuery,
  readS3Object,
  sha256,
  spoolEntries,
  type InstanceRow,
  type SentInstance,
} from '../archive.js';
import { BUCKET, PREFIX, type Stack } from './stack.js';

export interface ArchiveVerdict {
  violations: string[];
  rows: number;
  objects: number;
  /** Objects whose bytes were compared with the file sent. */
  compared: number;
}

export async function checkArchive(
  stack: Stack,
  sent: Map<string, SentInstance>,
  acknowledged: Iterable<string>,
): Promise<ArchiveVerdict> {
  const violations: string[] = [];
  const rows = await instanceRows(stack.postgres.url);
  const byUID = new Map<string, InstanceRow>(rows.map((r) => [r.sop_instance_uid, r]));
  const pending = rows.filter((r) => r.state !== 'stored');
  if (pending.length > 0) violations.push(`${pending.length} index rows not 'stored'`);
  const missing = [...acknowledged].filter((uid) => byUID.get(uid)?.state !== 'stored');
  if (missing.length > 0) violations.push(`${missing.length} acknowledged instances not indexed`);
  const [{ conflicts }] = await pgQuery<{ conflicts: number }>(
    stack.postgres.url,
    'SELECT count(*)::integer AS conflicts FROM instance_conflict',
  );
  if (conflicts > 0) violations.push(`${conflicts} conflicts recorded`);

  const keys = await listS3Keys(stack.minio, BUCKET);
  const expected = new Set(rows.map((r) => r.object_key));
  const orphans = keys.filter((k) => !expected.has(k));
  const absent = [...expected].filter((k) => !keys.includes(k));
  if (orphans.length > 0) violations.push(`${orphans.length} objects without an index row`);
  if (absent.length > 0) violations.push(`${absent.length} index rows without an object`);

  let compared = 0;
  for (const row of rows) {
    const instance = sent.get(row.sop_instance_uid);
    if (!instance || !keys.includes(row.object_key)) continue;
    const stored = await readS3Object(stack.minio, BUCKET, row.object_key);
    if (sha256(stored) !== row.sha256) violations.push(`${row.object_key}: SHA-256 differs`);
    else if (!datasetOf(stored).equals(datasetOf(await readFile(instance.path))))
      violations.push(`${row.object_key}: not the data set sent`);
    compared++;
  }

  for (const sub of ['incoming', 'ready', 'failed']) {
    const left = await spoolEntries(stack.spool, sub);
    if (left.length > 0) violations.push(`${left.length} files left in spool/${sub}`);
  }
  const counts = await jobCounts({ redisUrl: stack.redis.url, prefix: PREFIX });
  const queued = counts.waiting + counts.active + counts.delayed + counts.prioritized;
  if (queued > 0) violations.push(`${queued} jobs still queued`);
  if (counts.failed > 0) violations.push(`${counts.failed} failed jobs`);
  return { violations, rows: rows.length, objects: keys.length, compared };
}
