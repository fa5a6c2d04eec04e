/**
 * C-ECHO and C-STORE through the real gateway, with dcmtk as the modality. Byte-level claims are made
 * against dcmtk's own storescp in bit-preserving mode (+B) receiving the same send.
 */
import { spoolEntries } from '../helpers/spool.js';
import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { decodeFileMetaInformation } from '../../core/dicom/part10-meta.js';
import { echoscu, startStorescp, storescu } from '../helpers/dcmtk.js';
import { startTestLightbox } from '../helpers/start-lightbox.js';
import { encodeInstance, makeUID, writeInstanceFile } from '../helpers/synthetic.js';
import { requireTool } from '../helpers/tools.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const datasetOf = (file: Buffer) => file.subarray(decodeFileMetaInformation(file).datasetOffset);

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lightbox-cstore-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

if ((await requireTool(test, 'storescu')) && (await requireTool(test, 'storescp'))) {
  test('C-ECHO answers Success to a known called AE title', async (t) => {
    const lightbox = await startTestLightbox();
    t.teardown(() => lightbox.stop());
    const echo = await echoscu(lightbox.gateway.port);
    t.is(echo.code, 0, echo.stderr);
    t.regex(echo.stdout + echo.stderr, /Received Echo Response \(Success\)/);
  });

  test('a wrong called AE title or a calling AE title outside the allowlist is rejected', async (t) => {
    const lightbox = await startTestLightbox({ gateway: { allowedCallingAETitles: ['CT01'] } });
    t.teardown(() => lightbox.stop());
    const wrongCalled = await echoscu(lightbox.gateway.port, {
      callingAETitle: 'CT01',
      calledAETitle: 'SOMEONE',
    });
    t.not(wrongCalled.code, 0);
    t.regex(wrongCalled.stderr + wrongCalled.stdout, /Called AE Title Not Recognized/i);
    const unknownCalling = await echoscu(lightbox.gateway.port, { callingAETitle: 'ROGUE' });
    t.not(unknownCalling.code, 0);
    t.regex(unknownCalling.stderr + unknownCalling.stdout, /Calling AE Title Not Recognized/i);
    const allowed = await echoscu(lightbox.gateway.port, { callingAETitle: 'CT01' });
    t.is(allowed.code, 0, allowed.stderr);
  });

  test('C-STORE archives a study unchanged: data set bytes equal what storescp +B receives', async (t) => {
    const dir = await tempDir(t);
    const lightbox = await startTestLightbox();
    t.teardown(() => lightbox.stop());
    const reference = path.join(dir, 'storescp');
    await import('node:fs/promises').then((fs) => fs.mkdir(reference));
    const storescp = await startStorescp(reference);
    t.teardown(() => storescp.close());

    const StudyInstanceUID = makeUID();
    const SeriesInstanceUID = makeUID();
    const files: string[] = [];
    for (let i = 1; i <= 5; i++) {
      const file = path.join(dir, `in-${i}.dcm`);
      await writeFile(
        file,
        encodeInstance({ StudyInstanceUID, SeriesInstanceUID, InstanceNumber: i, Rows: 128 }),
      );
      files.push(file);
    }
    const toLightbox = await storescu(lightbox.gateway.port, files);
    t.is(toLightbox.code, 0, toLightbox.stderr);
    t.is(
      (toLightbox.stdout + toLightbox.stderr).match(/Received Store Response \(Success\)/g)?.length,
      5,
    );
    const toReference = await storescu(storescp.port, files);
    t.is(toReference.code, 0, toReference.stderr);
    await lightbox.settled();

    const counts = await lightbox.services.index.counts();
    t.like(counts, { patients: 1, studies: 1, series: 1, instances: 5, conflicts: 0 });
    for (const name of await readdir(reference)) {
      const received = await readFile(path.join(reference, name));
      const { meta } = decodeFileMetaInformation(received);
      const row = await lightbox.services.index.getInstance(meta.MediaStorageSOPInstanceUID);
      t.truthy(row, 'indexed');
      const stored = await readFile(path.join(lightbox.dataDirectory, 'objects', row!.objectKey));
      t.is(sha256(datasetOf(stored)), sha256(datasetOf(received)), 'data set bytes identical');
      t.is(sha256(stored), row!.sha256, 'recorded SHA-256 is that of the stored object');
      t.is(decodeFileMetaInformation(stored).meta.SourceApplicationEntityTitle, 'STORESCU');
    }
    t.deepEqual(await readdir(path.join(lightbox.dataDirectory, 'spool', 'ready')), []);
    t.deepEqual(await spoolEntries(path.join(lightbox.dataDirectory, 'spool'), 'incoming'), []);
  });

  test('an invalid SOP Instance UID is refused with 0xC000 and leaves nothing behind', async (t) => {
    const dir = await tempDir(t);
    const lightbox = await startTestLightbox();
    t.teardown(() => lightbox.stop());
    const file = path.join(dir, 'bad-uid.dcm');
    await writeFile(
      file,
      encodeInstance({
        StudyInstanceUID: '1.2.03', // leading zero: not a UID (PS3.5 §9.1)
        SeriesInstanceUID: makeUID(),
      }),
    );
    const result = await storescu(lightbox.gateway.port, [file]);
    t.regex(result.stdout + result.stderr, /Received Store Response \(Error: CannotUnderstand\)/);
    await lightbox.settled();
    t.like(await lightbox.services.index.counts(), { instances: 0, studies: 0 });
    t.deepEqual(await readdir(path.join(lightbox.dataDirectory, 'spool', 'ready')), []);
    t.deepEqual(await spoolEntries(path.join(lightbox.dataDirectory, 'spool'), 'incoming'), []);
  });

  test('an instance above maxInstanceBytes is refused with 0xA700 and nothing is kept', async (t) => {
    const dir = await tempDir(t);
    const lightbox = await startTestLightbox({ gateway: { maxInstanceBytes: 100_000 } });
    t.teardown(() => lightbox.stop());
    const big = path.join(dir, 'big.dcm');
    await writeInstanceFile(big, {
      StudyInstanceUID: makeUID(),
      SeriesInstanceUID: makeUID(),
      Rows: 512,
      Columns: 512,
    });
    const small = path.join(dir, 'small.dcm');
    await writeFile(
      small,
      encodeInstance({ StudyInstanceUID: makeUID(), SeriesInstanceUID: makeUID() }),
    );
    const result = await storescu(lightbox.gateway.port, [big, small], { extra: ['--no-halt'] });
    const output = result.stdout + result.stderr;
    t.regex(output, /Received Store Response \(Refused: OutOfResources\)/);
    t.regex(
      output,
      /Received Store Response \(Success\)/,
      'the association goes on after a refusal',
    );
    await lightbox.settled();
    t.like(await lightbox.services.index.counts(), { instances: 1 });
    t.deepEqual(await spoolEntries(path.join(lightbox.dataDirectory, 'spool'), 'incoming'), []);
  });

  test('the same SOP Instance UID with other bytes keeps the first and records a conflict', async (t) => {
    const dir = await tempDir(t);
    const lightbox = await startTestLightbox();
    t.teardown(() => lightbox.stop());
    const uids = {
      StudyInstanceUID: makeUID(),
      SeriesInstanceUID: makeUID(),
      SOPInstanceUID: makeUID(),
    };
    const first = path.join(dir, 'first.dcm');
    const second = path.join(dir, 'second.dcm');
    await writeFile(first, encodeInstance(uids));
    await writeFile(second, encodeInstance(uids)); // random pixel data: other bytes
    t.is((await storescu(lightbox.gateway.port, [first])).code, 0);
    await lightbox.settled();
    const stored = await lightbox.services.index.getInstance(uids.SOPInstanceUID);
    t.is((await storescu(lightbox.gateway.port, [second])).code, 0);
    t.is((await storescu(lightbox.gateway.port, [first])).code, 0, 'identical re-send is a no-op');
    await lightbox.settled();
    const after = await lightbox.services.index.getInstance(uids.SOPInstanceUID);
    t.is(after!.sha256, stored!.sha256, 'first bytes kept');
    t.like(await lightbox.services.index.counts(), { instances: 1, conflicts: 1 });
    const conflicts = await readdir(
      path.join(lightbox.dataDirectory, 'objects', 'conflicts', uids.SOPInstanceUID),
    );
    t.is(conflicts.length, 1, 'conflicting bytes kept aside, not dropped');
  });
}
