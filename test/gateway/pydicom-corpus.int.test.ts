/**
 * Every file of Debian's python3-pydicom test data, sent with dcmtk storescu to the embedded Lightbox
 * and, in the same way, to dcmtk storescp in bit-preserving mode (+B), the reference receiver.
 *
 * storescu re-encodes what it sends (implicit → explicit VR, explicit sequence lengths…), and it
 * refuses some files itself (no SOP Class/Instance UID, truncated, a compressed transfer syntax it
 * was not told to propose and cannot decompress). So the claim is made against what storescp
 * receives from the same send: for every instance both accepted, the data set bytes Lightbox stored
 * (after its File Meta Information) are exactly those storescp wrote. Which instances Lightbox must
 * refuse, and with which status, is computed from what storescp received (read with dcmdump, not
 * with Lightbox's parser).
 *
 * Pass "uncompressed" sends all files in one association, storescu proposing only the contexts the
 * files need (-R), uncompressed syntaxes (its default). Then one pass per compressed transfer syntax
 * of the corpus sends the files in that syntax with storescu proposing it (-xy, -xv…) and storescp
 * preferring it (+xy, +xv…), so that they travel compressed, unchanged.
 */
import { spoolEntries } from '../helpers/spool.js';
import test from 'ava';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { decodeFileMetaInformation } from '../../core/dicom/part10-meta.js';
import { CStoreStatus } from '../../gateway/dimse-status.js';
import { run, storescu, type RunResult } from '../helpers/dcmtk.js';
import {
  parseStorescu,
  startRecordingStorescp,
  STORE_STATUS_CODE,
  type StoreResult,
} from '../helpers/processes.js';
import { pydicomManifest, type ManifestEntry } from '../helpers/samples.js';
import { startTestLightbox } from '../helpers/start-lightbox.js';
import { requireService, requireTool } from '../helpers/tools.js';

/** Compressed (or deflated) transfer syntaxes: storescu's propose option, storescp's preference. */
const COMPRESSED: Record<string, { propose: string; prefer: string }> = {
  '1.2.840.10008.1.2.4.50': { propose: '-xy', prefer: '+xy' }, // JPEG Baseline
  '1.2.840.10008.1.2.4.51': { propose: '-xx', prefer: '+xx' }, // JPEG Extended
  '1.2.840.10008.1.2.4.70': { propose: '-xs', prefer: '+xs' }, // JPEG Lossless SV1
  '1.2.840.10008.1.2.4.80': { propose: '-xt', prefer: '+xt' }, // JPEG-LS Lossless
  '1.2.840.10008.1.2.4.90': { propose: '-xv', prefer: '+xv' }, // JPEG 2000 Lossless
  '1.2.840.10008.1.2.4.91': { propose: '-xw', prefer: '+xw' }, // JPEG 2000
  '1.2.840.10008.1.2.5': { propose: '-xr', prefer: '+xr' }, // RLE Lossless
  '1.2.840.10008.1.2.1.99': { propose: '-xd', prefer: '+xd' }, // Deflated Explicit VR LE
};

/** PS3.5 §9.1, written here again rather than imported: the expectation must not be Lightbox's code. */
const UID = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;
const validUID = (v: string | undefined) => v !== undefined && v.length <= 64 && UID.test(v);

interface Send {
  pass: string;
  file: string;
  lightbox: StoreResult;
  reference: StoreResult;
  /** The file storescp wrote for this send, when it answered Success. */
  referenceFile?: string;
}

/** Top-level UI values of a file, by tag, read with dcmdump (numeric UIDs, no names). */
async function dcmdumpUIDs(file: string): Promise<Record<string, string>> {
  const tags = ['0002,0002', '0002,0003', '0008,0016', '0008,0018', '0020,000d', '0020,000e'];
  const dump = await run('dcmdump', ['-q', '-Un', ...tags.flatMap((tag) => ['+P', tag]), file]);
  const values: Record<string, string> = {};
  for (const m of dump.stdout.matchAll(/^\(([0-9a-f]{4},[0-9a-f]{4})\) UI \[([^\]]*)\]/gm)) {
    values[m[1]] ??= m[2].replace(/[\0 ]+$/, '');
  }
  return values;
}

/**
 * The status Lightbox owes a data set, from what the reference received: Cannot Understand (0xC000)
 * without a valid Study/Series/SOP Instance/SOP Class UID, 0xA900 when the data set's SOP
 * Instance/Class UIDs differ from the command's (which storescp put in the meta group), else Success.
 */
async function expectedStatus(referenceFile: string): Promise<number> {
  const v = await dcmdumpUIDs(referenceFile);
  const required = [v['0020,000d'], v['0020,000e'], v['0008,0018'], v['0008,0016']];
  if (!required.every(validUID)) return CStoreStatus.ErrorCannotUnderstand;
  if (v['0008,0018'] !== v['0002,0003'] || v['0008,0016'] !== v['0002,0002']) {
    return CStoreStatus.ErrorDataSetDoesNotMatchSOPClass;
  }
  return CStoreStatus.Success;
}

function datasetOf(file: Buffer): {
  TransferSyntaxUID: string;
  SOPInstanceUID: string;
  bytes: Buffer;
} {
  const { meta, datasetOffset } = decodeFileMetaInformation(file);
  return {
    TransferSyntaxUID: meta.TransferSyntaxUID,
    SOPInstanceUID: meta.MediaStorageSOPInstanceUID,
    bytes: file.subarray(datasetOffset),
  };
}

// Extracting the data the first time takes seconds, longer than the probe waits.
await pydicomManifest().catch(() => undefined);
if (
  (await requireTool(test, 'storescu')) &&
  (await requireTool(test, 'storescp')) &&
  (await requireTool(test, 'dcmdump')) &&
  (await requireService(test, 'pydicom test data', pydicomManifest))
) {
  test('every pydicom file: Lightbox stores exactly the data set storescp +B receives, or refuses it as it should', async (t) => {
    t.timeout(90_000);
    const manifest = await pydicomManifest();
    const work = await mkdtemp(path.join(os.tmpdir(), 'lightbox-corpus-'));
    t.teardown(() => rm(work, { recursive: true, force: true }));
    const lightbox = await startTestLightbox();
    t.teardown(() => lightbox.stop());

    const passes: { name: string; files: ManifestEntry[]; propose: string[]; prefer: string }[] = [
      { name: 'uncompressed', files: manifest, propose: [], prefer: '+xa' },
    ];
    for (const [ts, { propose, prefer }] of Object.entries(COMPRESSED)) {
      const files = manifest.filter((f) => f.TransferSyntaxUID === ts);
      if (files.length > 0) passes.push({ name: ts, files, propose: [propose], prefer });
    }

    const sends: Send[] = [];
    for (const pass of passes) {
      const directory = path.join(work, `storescp-${pass.name}`);
      await mkdir(directory);
      const reference = await startRecordingStorescp(directory, { preference: pass.prefer });
      const paths = pass.files.map((f) => f.path);
      const extra = ['-R', '--no-halt', ...pass.propose];
      const output = (r: RunResult) => r.stdout + r.stderr; // dcmtk logs to stderr
      const toLightbox = parseStorescu(
        output(await storescu(lightbox.gateway.port, paths, { extra })),
      );
      const toReference = parseStorescu(output(await storescu(reference.port, paths, { extra })));
      const received = await reference.close();

      t.deepEqual(
        toLightbox.map((r) => r.file).sort(),
        [...paths].sort(),
        `${pass.name}: storescu reported on every file sent to Lightbox`,
      );
      t.deepEqual(
        toReference.map((r) => r.file),
        toLightbox.map((r) => r.file),
        `${pass.name}: the same files, in the same order, to both receivers`,
      );
      const acknowledgedByReference = toReference.filter((r) => r.status === 'Success');
      t.is(received.length, acknowledgedByReference.length, `${pass.name}: one file per Success`);
      let next = 0;
      toLightbox.forEach((lightboxResult, i) => {
        const referenceResult = toReference[i];
        const referenceFile =
          referenceResult.status === 'Success' ? path.join(directory, received[next++]) : undefined;
        sends.push({
          pass: pass.name,
          file: path.basename(lightboxResult.file),
          lightbox: lightboxResult,
          reference: referenceResult,
          referenceFile,
        });
      });
    }

    // What storescu would not send, it sent to neither receiver.
    const notSent = sends.filter((s) => s.lightbox.notSent);
    for (const s of notSent) {
      t.truthy(s.reference.notSent, `${s.file} (${s.pass}): refused by storescu for both`);
    }
    const why = new Map<string, string[]>();
    for (const s of notSent) {
      const reason = s.lightbox.notSent === 'Store Failed' ? 'cannot convert' : s.lightbox.notSent!;
      why.set(reason, [
        ...(why.get(reason) ?? []),
        `${s.file}${s.pass === 'uncompressed' ? '' : ` [${s.pass}]`}`,
      ]);
    }
    for (const [reason, files] of why) {
      t.log(`storescu did not send (${reason}): ${files.length}: ${files.join(', ')}`);
    }

    // The reference answered Success for everything it was sent: storescp +B +xa accepts anything.
    const sent = sends.filter((s) => !s.lightbox.notSent);
    for (const s of sent) t.is(s.reference.status, 'Success', `${s.file} (${s.pass}) to storescp`);

    // What Lightbox had to answer, computed from what storescp received.
    const expected = new Map<Send, number>();
    for (const s of sent) expected.set(s, await expectedStatus(s.referenceFile!));
    const expectedAccepted = sent.filter((s) => expected.get(s) === CStoreStatus.Success);
    const expectedRefused = sent.filter((s) => expected.get(s) !== CStoreStatus.Success);
    const accepted = sent.filter((s) => s.lightbox.status === 'Success');
    const refused = sent.filter((s) => s.lightbox.status !== 'Success');
    t.log(
      `${manifest.length} files, ${sends.length} sends over ${passes.length} associations:`,
      `${accepted.length} accepted, ${refused.length} refused by Lightbox, ${notSent.length} not sent`,
    );
    t.is(accepted.length, expectedAccepted.length, 'accepted count');
    t.is(refused.length, expectedRefused.length, 'refused count');
    for (const s of sent) {
      const status: number | undefined = STORE_STATUS_CODE[s.lightbox.status ?? ''];
      t.is<number | undefined, number | undefined>(
        status,
        expected.get(s),
        `${s.file} (${s.pass}): Lightbox answered ${s.lightbox.status}`,
      );
    }

    await lightbox.settled();
    const objects = path.join(lightbox.dataDirectory, 'objects');
    const spool = path.join(lightbox.dataDirectory, 'spool');
    t.deepEqual(await readdir(path.join(spool, 'ready')), [], 'everything accepted is archived');
    t.deepEqual(await spoolEntries(spool, 'incoming'), [], 'nothing half-written');
    t.deepEqual(await readdir(path.join(spool, 'failed')), [], 'the worker archived every one');

    // Byte for byte: Lightbox keeps the first bytes under the object key of the SOP Instance UID and
    // each other version of it under conflicts/<SOPInstanceUID>/.
    const versions = new Map<string, Set<string>>();
    for (const s of accepted) {
      const reference = datasetOf(await readFile(s.referenceFile!));
      const row = await lightbox.services.index.getInstance(reference.SOPInstanceUID);
      t.is(row?.state, 'stored', `${s.file} (${s.pass}) indexed`);
      if (!row) continue;
      const candidates = [path.join(objects, row.objectKey)];
      const conflicts = path.join(objects, 'conflicts', reference.SOPInstanceUID);
      for (const name of await readdir(conflicts).catch(() => [])) {
        candidates.push(path.join(conflicts, name));
      }
      let match: ReturnType<typeof datasetOf> | undefined;
      for (const candidate of candidates) {
        const stored = datasetOf(await readFile(candidate));
        if (stored.bytes.equals(reference.bytes)) match = stored;
      }
      t.truthy(match, `${s.file} (${s.pass}): data set bytes identical to storescp's`);
      t.is(match?.TransferSyntaxUID, reference.TransferSyntaxUID, `${s.file}: transfer syntax`);
      if (s.pass !== 'uncompressed') {
        t.is(reference.TransferSyntaxUID, s.pass, `${s.file}: travelled in ${s.pass}, unchanged`);
      }
      const key = reference.SOPInstanceUID;
      versions.set(key, (versions.get(key) ?? new Set()).add(reference.bytes.toString('base64')));
    }
    const distinctVersions = [...versions.values()].reduce((n, v) => n + v.size, 0);
    t.like(await lightbox.services.index.counts(), {
      instances: versions.size,
      conflicts: distinctVersions - versions.size,
    });
  });
}
