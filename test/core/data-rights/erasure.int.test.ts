/**
 * Erasure of a patient record: objects, index rows, conflicts and their kept-aside objects go; a
 * receipt with counts and a SHA-256 over its body comes back; an erasure stopped half way (the
 * process dies after a committed step) is finished by the next call; tombstones hold hashes only.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { DataRights, type Actor } from '../../../core/data-rights/data-rights.js';
import { receiptText } from '../../../core/data-rights/erasure/receipt.js';
import { conflictObjectKey } from '../../../core/archive/object-store.js';
import { createLogger } from '../../../core/log.js';
import { createArchiveFixture, type ArchiveFixture } from '../../helpers/archive-fixture.js';
import { requirePostgres } from '../../helpers/postgres.js';
import { makeUID, writeInstanceFile } from '../../helpers/synthetic.js';

const actor: Actor = { principal: { kind: 'patient', accountId: 'acct-1' }, via: 'api' };

async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true }).catch(
    () => [],
  );
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

if (await requirePostgres(test)) {
  let fixture: ArchiveFixture;
  let dataRights: DataRights;
  let patientKey: string;
  let otherPatientKey: string;
  const erasedUIDs: string[] = [];

  test.before(async () => {
    fixture = await createArchiveFixture();
    dataRights = new DataRights({
      sql: fixture.index.sql,
      objects: fixture.objects,
      config: {
        exportDirectory: path.join(fixture.directory, 'exports'),
        tombstoneKey: 'a-test-key-of-16+chars',
        discardErasedPatients: false,
        regions: {},
      },
      log: createLogger({ level: 'silent' }, {}),
    });
    const inbox = path.join(fixture.directory, 'in');
    await mkdir(inbox);
    let n = 0;
    for (const StudyInstanceUID of [makeUID(), makeUID()]) {
      erasedUIDs.push(StudyInstanceUID);
      const SeriesInstanceUID = makeUID();
      for (let i = 0; i < 3; i++) {
        const file = path.join(inbox, `${n++}.dcm`);
        await writeInstanceFile(file, {
          StudyInstanceUID,
          SeriesInstanceUID,
          PatientID: 'ERASE-ME',
        });
        const archived = await fixture.archive(file);
        patientKey = archived.patientKey;
        erasedUIDs.push(archived.SOPInstanceUID);
      }
    }
    // A re-send with other bytes, kept aside as a conflict.
    const [first] = await fixture.index.sql.query(
      `SELECT sop_instance_uid, size FROM instance i JOIN study s USING (study_instance_uid)
       WHERE s.patient_key = $1::bigint LIMIT 1`,
      [patientKey],
    );
    const conflictFile = path.join(inbox, 'conflict.dcm');
    await writeInstanceFile(conflictFile, {
      StudyInstanceUID: erasedUIDs[0],
      SeriesInstanceUID: makeUID(),
      SOPInstanceUID: first.sop_instance_uid as string,
    });
    const key = conflictObjectKey(first.sop_instance_uid as string, 'f'.repeat(64));
    const { size } = await stat(conflictFile);
    await fixture.objects.putFile(key, conflictFile, size);
    await fixture.index.recordConflict({
      SOPInstanceUID: first.sop_instance_uid as string,
      TransferSyntaxUID: '1.2.840.10008.1.2.1',
      objectKey: key,
      size,
      sha256: 'f'.repeat(64),
      callingAETitle: 'TEST',
      receivedAt: new Date().toISOString(),
    });
    await dataRights.rectify(patientKey, { PatientSex: 'F' }, 'typo', actor);
    const otherFile = path.join(inbox, 'other.dcm');
    await writeInstanceFile(otherFile, {
      StudyInstanceUID: makeUID(),
      SeriesInstanceUID: makeUID(),
      PatientID: 'KEEP-ME',
    });
    otherPatientKey = (await fixture.archive(otherFile)).patientKey;
  });
  test.after.always(() => fixture?.close());

  test.serial(
    'a crash mid-erasure leaves a state the retry finishes, with one receipt',
    async (t) => {
      const objectsDir = path.join(fixture.directory, 'objects');
      t.is((await filesUnder(objectsDir)).length, 8); // 6 + conflict + other patient

      // The process "dies" right after the first committed step.
      await t.throwsAsync(
        dataRights.erase(patientKey, actor, (step) => {
          if (step === 'begin') throw new Error('killed');
        }),
        { message: 'killed' },
      );
      const [running] = await fixture.index.sql.query(`SELECT state FROM erasure`);
      t.is(running.state, 'running');
      t.true(await dataRights.isRestricted(patientKey), 'restricted from the first step on');

      const receipt = await dataRights.erase(patientKey, actor);
      t.like(receipt, {
        patientKey,
        requestedBy: 'patient:acct-1',
        counts: {
          studies: 2,
          series: 2,
          instances: 6,
          conflicts: 1,
          objects: 7,
          exports: 0,
          rectifications: 1,
          grants: 0,
          shareLinks: 0,
          recordLinks: 0,
        },
      });
      t.is(receipt.receiptSha256, createHash('sha256').update(receiptText(receipt)).digest('hex'));
      t.deepEqual(await dataRights.erase(patientKey, actor), receipt, 'idempotent: same receipt');

      const remaining = await filesUnder(objectsDir);
      t.is(remaining.length, 1, 'only the other patient’s object is left');
      const names = (await readdir(objectsDir, { recursive: true })).join('\n');
      for (const uid of erasedUIDs)
        t.false(names.includes(uid), 'no directory named by an erased UID');
      const [counts] = await fixture.index.sql.query(`
      SELECT (SELECT count(*) FROM patient)::int AS patients, (SELECT count(*) FROM study)::int AS studies,
             (SELECT count(*) FROM series)::int AS series, (SELECT count(*) FROM instance)::int AS instances,
             (SELECT count(*) FROM instance_conflict)::int AS conflicts,
             (SELECT count(*) FROM patient_rectification)::int AS rectifications,
             (SELECT count(*) FROM patient_restriction)::int AS restrictions`);
      t.deepEqual(counts, {
        patients: 1,
        studies: 1,
        series: 1,
        instances: 1,
        conflicts: 0,
        rectifications: 0,
        restrictions: 0,
      });
      const [kept] = await fixture.index.sql.query(`SELECT patient_key::text AS k FROM patient`);
      t.is(kept.k, otherPatientKey);
    },
  );

  test.serial(
    'tombstones keep keyed hashes of the identity and every UID, never the values',
    async (t) => {
      const rows = await fixture.index.sql.query(`SELECT kind, hash FROM erasure_tombstone`);
      const byKind = (kind: string) => rows.filter((r) => r.kind === kind).length;
      t.is(byKind('patient'), 1);
      t.is(byKind('study'), 2);
      t.is(byKind('instance'), 6);
      const text = JSON.stringify(rows);
      for (const uid of erasedUIDs) t.false(text.includes(uid));
      t.false(text.includes('ERASE-ME'));
      // What the worker does with a re-sent instance: the claim checks the tombstones.
      const claim = (subject: { StudyInstanceUID: string; SOPInstanceUID: string }) =>
        fixture.index.beginInstance(
          {
            SOPInstanceUID: subject.SOPInstanceUID,
            SOPClassUID: '1.2.840.10008.5.1.4.1.1.2',
            TransferSyntaxUID: '1.2.840.10008.1.2.1',
            objectKey: `studies/${subject.StudyInstanceUID}/resent.dcm`,
            size: 1,
            sha256: 'f'.repeat(64),
            callingAETitle: 'RESEND',
            receivedAt: new Date().toISOString(),
          },
          dataRights.ingestPolicy.tombstones({
            IssuerOfPatientID: '',
            PatientID: 'ERASE-ME',
            ...subject,
          } as never),
        );
      const inErasedStudy = { StudyInstanceUID: erasedUIDs[0], SOPInstanceUID: makeUID() };
      t.is(await claim(inErasedStudy), 'discarded', 'a new instance in an erased study');
      t.is(await fixture.index.getInstance(inErasedStudy.SOPInstanceUID), null);
      t.true(
        await dataRights.tombstones.isBuried(fixture.index.sql, inErasedStudy.SOPInstanceUID),
        'its SOPInstanceUID is buried with the erasure',
      );
      t.is(
        await claim({ StudyInstanceUID: makeUID(), SOPInstanceUID: makeUID() }),
        'new',
        'a new study of the same patient is not discarded (discardErasedPatients is off)',
      );
      t.is(await dataRights.tombstones.discardedCount(fixture.index.sql), 1);
    },
  );

  test.serial('erasing an unknown record is NotFound', async (t) => {
    await t.throwsAsync(dataRights.erase('424242', actor), { message: /no such patient record/ });
  });
}
