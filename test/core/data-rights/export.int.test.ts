/**
 * Export all my imaging: the ZIP holds a DICOMDIR that dcmtk reads (dcmdump, and dcmmkdir appending
 * to it) and every stored instance of the record under the File ID its IMAGE record names, byte for
 * byte; nothing of another patient.
 */
import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { Exports } from '../../../core/data-rights/export/exports.js';
import { isValidFileId } from '../../../core/data-rights/export/file-set-layout.js';
import { writeExportZip } from '../../../core/data-rights/export/export-zip.js';
import { createLogger } from '../../../core/log.js';
import { createArchiveFixture, type ArchiveFixture } from '../../helpers/archive-fixture.js';
import { requirePostgres } from '../../helpers/postgres.js';
import { makeUID, writeInstanceFile } from '../../helpers/synthetic.js';
import { requireTool } from '../../helpers/tools.js';

const exec = promisify(execFile);

if ((await requirePostgres(test)) && (await requireTool(test, 'dcmdump', ['--version']))) {
  let fixture: ArchiveFixture;
  let patientKey: string;
  const stored = new Map<string, string>(); // SOPInstanceUID → sha256

  test.before(async () => {
    fixture = await createArchiveFixture();
    const files = path.join(fixture.directory, 'in');
    await mkdir(files);
    const studies = [makeUID(), makeUID()];
    let n = 0;
    for (const StudyInstanceUID of studies) {
      for (const [SeriesNumber, SeriesInstanceUID] of [makeUID(), makeUID()].entries()) {
        for (let InstanceNumber = 1; InstanceNumber <= 3; InstanceNumber++) {
          const file = path.join(files, `${n++}.dcm`);
          await writeInstanceFile(file, {
            StudyInstanceUID,
            SeriesInstanceUID,
            SeriesNumber: SeriesNumber + 1,
            InstanceNumber,
            PatientID: 'EXPORT-1',
            PatientName: 'Müller^Jürgen',
            Rows: 16,
            Columns: 16,
          });
          const archived = await fixture.archive(file);
          stored.set(archived.SOPInstanceUID, archived.sha256);
          patientKey = archived.patientKey;
        }
      }
    }
    // Another patient: must not appear.
    const other = path.join(files, 'other.dcm');
    await writeInstanceFile(other, {
      StudyInstanceUID: makeUID(),
      SeriesInstanceUID: makeUID(),
      PatientID: 'OTHER',
    });
    await fixture.archive(other);
  });
  test.after.always(() => fixture?.close());

  test('the ZIP is PS3.10 media: DICOMDIR read by dcmtk, every file referenced and byte-identical', async (t) => {
    const zipFile = path.join(fixture.directory, 'export.zip');
    const progress: number[] = [];
    const result = await writeExportZip({
      sql: fixture.index.sql,
      objects: fixture.objects,
      patientKey,
      out: createWriteStream(zipFile),
      onProgress: ({ done }) => progress.push(done),
    });
    t.deepEqual(result, { done: 12, total: 12 });
    t.deepEqual(progress, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);

    const media = path.join(fixture.directory, 'media');
    await exec('unzip', ['-q', zipFile, '-d', media]);
    const dump = (await exec('dcmdump', ['+L', path.join(media, 'DICOMDIR')])).stdout;
    t.is((dump.match(/\(0004,1430\) CS \[PATIENT\]/g) ?? []).length, 1);
    t.is((dump.match(/\(0004,1430\) CS \[STUDY\]/g) ?? []).length, 2);
    t.is((dump.match(/\(0004,1430\) CS \[SERIES\]/g) ?? []).length, 4);
    t.is((dump.match(/\(0004,1430\) CS \[IMAGE\]/g) ?? []).length, 12);
    t.regex(dump, /\(0002,0002\) UI =MediaStorageDirectoryStorage/);

    const fileIds = [...dump.matchAll(/\(0004,1500\) CS \[([^\]]+)\]/g)].map((m) =>
      m[1].split('\\'),
    );
    const sopUIDs = [...dump.matchAll(/\(0004,1511\) UI \[([^\]]+)\]/g)].map((m) => m[1]);
    t.is(fileIds.length, 12);
    t.deepEqual([...sopUIDs].sort(), [...stored.keys()].sort()); // the same UIDs, each once
    for (const [i, fileId] of fileIds.entries()) {
      t.true(isValidFileId(fileId), fileId.join('/'));
      const bytes = await readFile(path.join(media, ...fileId));
      t.is(createHash('sha256').update(bytes).digest('hex'), stored.get(sopUIDs[i]) ?? 'absent');
    }
    // dcmmkdir +U reads the existing DICOMDIR (offsets, record links, keys) and checks it against
    // the files it references before updating it: it must find nothing to object to.
    const updated = await exec('dcmmkdir', ['+U', '+D', 'DICOMDIR', '+r', '-v', 'DICOM'], {
      cwd: media,
    }).then(
      (r) => ({ ...r, code: 0 }),
      (e: { stdout: string; stderr: string; code: number }) => e,
    );
    t.is(updated.code, 0, updated.stderr);
    t.notRegex(updated.stderr + updated.stdout, /^E: /m);
    t.regex(dump, /\(0010,0010\) PN \[Müller\^Jürgen\]|\(0008,0005\) CS \[ISO_IR 192\]/);
  });

  test('exports run in the background with progress, then download', async (t) => {
    const exports = new Exports({
      sql: fixture.index.sql,
      objects: fixture.objects,
      directory: path.join(fixture.directory, 'exports'),
      log: createLogger({ level: 'silent' }, {}),
    });
    const started = await exports.start(patientKey, 'patient:a');
    await exports.settled(started.exportId);
    const status = await exports.status(started.exportId);
    t.like(status, { state: 'ready', done: 12, total: 12 });
    const { size } = await exports.download(started.exportId);
    t.true(size > 12 * 512);
    t.deepEqual(await readdir(path.join(fixture.directory, 'exports')), [
      `${started.exportId}.zip`,
    ]);
    await t.throwsAsync(exports.start('999999', 'patient:a'), { message: /no such patient/ });
  });

  test('an export whose process stopped is failed, its partial file removed; a live one is kept', async (t) => {
    const directory = path.join(fixture.directory, 'exports-stale');
    await mkdir(directory, { recursive: true });
    const exports = new Exports({
      sql: fixture.index.sql,
      objects: fixture.objects,
      directory,
      log: createLogger({ level: 'silent' }, {}),
    });
    // Two exports left 'running' by other processes: one died two minutes ago (its heartbeat
    // stopped then), one is alive (heartbeat now). Each has its partial file here.
    const [dead, alive] = [randomUUID(), randomUUID()];
    for (const [id, age] of [
      [dead, 120],
      [alive, 0],
    ] as const) {
      await fixture.index.sql.query(
        `INSERT INTO data_export (export_id, patient_key, requested_by, done, total, heartbeat_at)
         VALUES ($1, $2::bigint, 'patient:a', 3, 12, now() - $3::integer * interval '1 second')`,
        [id, patientKey, age],
      );
      await writeFile(`${exports.zipPath(id)}.part`, 'partial');
    }
    // The status of the dead one, asked before any restart, already says so.
    t.like(await exports.status(dead), { state: 'failed', done: 3, total: 12 });
    t.like(await exports.status(alive), { state: 'running' });
    t.deepEqual(await readdir(directory), [`${alive}.zip.part`]);
    // At a start, every stale one is failed; the live one is left to its process.
    await fixture.index.sql.query(
      `UPDATE data_export SET state = 'running', heartbeat_at = now() - interval '2 minutes'
       WHERE export_id = $1`,
      [dead],
    );
    const failed = await exports.failStale();
    t.true(failed.includes(dead));
    t.false(failed.includes(alive));
    t.like(await exports.status(alive), { state: 'running' });
    await t.throwsAsync(exports.download(dead), { message: /not ready/ });
    // What this process is building is never failed, however old its heartbeat.
    const started = await exports.start(patientKey, 'patient:a');
    t.false((await exports.failStale(undefined, 0)).includes(started.exportId));
    await exports.settled(started.exportId);
    t.like(await exports.status(started.exportId), { state: 'ready' });
  });
}
