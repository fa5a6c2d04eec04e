/**
 * THE IndexStore contract, run by each database the SQL implementation supports (PGlite and
 * PostgreSQL) from its own test file. Tests are serial: they assert exact changes of the counts.
 */
import { randomBytes } from 'node:crypto';
import type { TestFn } from 'ava';
import type {
  DicomJson,
  IndexCounts,
  IndexedAttributes,
  StoredObject,
} from '../../../core/archive/index-store.js';
import { loadMigrations } from '../../../core/archive/migrate.js';
import { objectKey } from '../../../core/archive/object-store.js';
import type { SqlIndexStore } from '../../../core/archive/sql-index-store.js';

/** An empty database of the adapter under test. */
export interface IndexDatabase {
  /**
   * A store on this database, not migrated. PostgreSQL: a new pool on each call, as another process
   * would have. PGlite: the one store that owns the directory, whatever the number of calls.
   */
  open(): Promise<SqlIndexStore>;
  /** Closes every store open() returned and deletes the database. */
  drop(): Promise<void>;
}

const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

/** A fresh UID under the 2.25 root (PS3.5 §B.2): a UUID-sized integer. */
const uid = () => `2.25.${BigInt('0x' + randomBytes(15).toString('hex'))}`;
const sha256 = () => randomBytes(32).toString('hex');

interface Sample {
  object: StoredObject & { SOPClassUID: string };
  attributes: IndexedAttributes;
  metadata: DicomJson;
}

/** A synthetic instance (no real patient data); UIDs are new unless given. */
function sample(given: Partial<IndexedAttributes> & { sha256?: string } = {}): Sample {
  const SOPInstanceUID = given.SOPInstanceUID ?? uid();
  const StudyInstanceUID = given.StudyInstanceUID ?? uid();
  const SeriesInstanceUID = given.SeriesInstanceUID ?? uid();
  const attributes: IndexedAttributes = {
    PatientID: `LBX-${randomBytes(4).toString('hex')}`,
    IssuerOfPatientID: 'LIGHTBOX-TEST',
    PatientName: 'Test^Synthetic',
    PatientBirthDate: '19700101',
    PatientSex: 'O',
    StudyDate: '20240102',
    StudyTime: '030405',
    AccessionNumber: 'ACC-1',
    StudyID: 'S1',
    StudyDescription: 'Synthetic study',
    ReferringPhysicianName: 'Referrer^Test',
    Modality: 'CT',
    SeriesNumber: 1,
    SeriesDescription: 'Synthetic series',
    SOPClassUID: CT_IMAGE_STORAGE,
    InstanceNumber: 1,
    Rows: 512,
    Columns: 512,
    NumberOfFrames: null,
    ...given,
    SOPInstanceUID,
    StudyInstanceUID,
    SeriesInstanceUID,
  };
  return {
    object: {
      SOPInstanceUID,
      SOPClassUID: attributes.SOPClassUID,
      TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
      objectKey: objectKey(attributes),
      size: 5_000_000_000, // above 2^32: size is a bigint column
      sha256: given.sha256 ?? sha256(),
      callingAETitle: 'TEST_SCU',
      receivedAt: new Date().toISOString(),
    },
    attributes,
    metadata: {
      '00080018': { vr: 'UI', Value: [SOPInstanceUID] },
      '00100010': { vr: 'PN', Value: [{ Alphabetic: attributes.PatientName }] },
    },
  };
}

function delta(before: IndexCounts, after: IndexCounts): IndexCounts {
  const d = { ...after };
  for (const k of Object.keys(d) as (keyof IndexCounts)[]) d[k] -= before[k];
  return d;
}
const counts = (c: Partial<IndexCounts>): IndexCounts => ({
  patients: 0,
  studies: 0,
  series: 0,
  instances: 0,
  conflicts: 0,
  ...c,
});

export function indexStoreContract(
  test: TestFn,
  adapter: string,
  createDatabase: () => Promise<IndexDatabase>,
): void {
  let database: IndexDatabase;
  let store: SqlIndexStore;

  test.before(async () => {
    database = await createDatabase();
    store = await database.open();
    await store.migrate();
  });
  test.after.always(async () => {
    await database?.drop();
  });

  /** Every migration the repository ships (each branch adds its own: 0002, 0003, …). */
  const shippedVersions = async () => (await loadMigrations()).map((m) => m.version);
  const versions = async (s: SqlIndexStore) =>
    s.sql.query('SELECT version, applied_at FROM schema_migrations ORDER BY version');

  test.serial(`${adapter}: migrate() again is a no-op`, async (t) => {
    const before = await versions(store);
    t.deepEqual(
      before.map((r) => r.version),
      await shippedVersions(),
    );
    await store.migrate();
    t.deepEqual(await versions(store), before);
  });

  test.serial(`${adapter}: begin → new (pending, invisible); complete → stored`, async (t) => {
    const { object, attributes, metadata } = sample();
    const before = await store.counts();
    t.is(await store.beginInstance(object), 'new');
    const pending = await store.getInstance(object.SOPInstanceUID);
    t.like(pending, { state: 'pending', StudyInstanceUID: null, SeriesInstanceUID: null });
    t.deepEqual(delta(before, await store.counts()), counts({}));

    await store.completeInstance(object, attributes, metadata);
    t.deepEqual(await store.getInstance(object.SOPInstanceUID), {
      SOPInstanceUID: object.SOPInstanceUID,
      StudyInstanceUID: attributes.StudyInstanceUID,
      SeriesInstanceUID: attributes.SeriesInstanceUID,
      SOPClassUID: CT_IMAGE_STORAGE,
      TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
      objectKey: object.objectKey,
      size: object.size,
      sha256: object.sha256,
      callingAETitle: 'TEST_SCU',
      receivedAt: object.receivedAt,
      state: 'stored',
    });
    t.deepEqual(
      delta(before, await store.counts()),
      counts({ patients: 1, studies: 1, series: 1, instances: 1 }),
    );
  });

  test.serial(
    `${adapter}: same bytes again: resume while pending, duplicate once stored`,
    async (t) => {
      const { object, attributes, metadata } = sample();
      t.is(await store.beginInstance(object), 'new');
      t.is(await store.beginInstance({ ...object, callingAETitle: 'OTHER' }), 'resume');
      await store.completeInstance(object, attributes, metadata);
      t.is(await store.beginInstance(object), 'duplicate');
      t.is((await store.getInstance(object.SOPInstanceUID))?.callingAETitle, 'TEST_SCU');
    },
  );

  test.serial(`${adapter}: other bytes: conflict, recorded once`, async (t) => {
    const { object, attributes, metadata } = sample();
    await store.beginInstance(object);
    await store.completeInstance(object, attributes, metadata);
    const before = await store.counts();
    const resend = {
      ...object,
      sha256: sha256(),
      objectKey: `conflicts/${object.SOPInstanceUID}/x.dcm`,
    };
    t.is(await store.beginInstance(resend), 'conflict');
    await store.recordConflict(resend);
    await store.recordConflict(resend);
    t.deepEqual(delta(before, await store.counts()), counts({ conflicts: 1 }));
    t.is((await store.getInstance(object.SOPInstanceUID))?.sha256, object.sha256, 'first kept');
  });

  test.serial(
    `${adapter}: begin with tombstones: a match discards (counted once, on the most specific), claims nothing, buries the SOPInstanceUID`,
    async (t) => {
      const erasureId = `erasure-${sha256().slice(0, 8)}`;
      await store.sql.query(
        `INSERT INTO erasure (erasure_id, patient_key, requested_by, counts) VALUES ($1, 0, 'test', '{}')`,
        [erasureId],
      );
      const [studyHash, patientHash, instanceHash] = [sha256(), sha256(), sha256()];
      await store.sql.query(
        `INSERT INTO erasure_tombstone (kind, hash, erasure_id)
         VALUES ('study', $1, $3), ('patient', $2, $3), ('instance', $4, $3)`,
        [studyHash, patientHash, erasureId, instanceHash],
      );
      const discarded = async (kind: string, hash: string) =>
        Number(
          (
            await store.sql.query(
              `SELECT discarded FROM erasure_tombstone WHERE kind = $1 AND hash = $2`,
              [kind, hash],
            )
          )[0]?.discarded,
        );
      const buried = async (hash: string) =>
        (
          await store.sql.query(
            `SELECT erasure_id FROM erasure_tombstone WHERE kind = 'instance' AND hash = $1`,
            [hash],
          )
        )[0]?.erasure_id;

      // In an erased study, of an erased patient: counted on the study only.
      const first = sample().object;
      const firstHash = sha256();
      const probe = { instance: firstHash, study: studyHash, patient: patientHash };
      t.is(await store.beginInstance(first, probe), 'discarded');
      if (adapter === 'pglite') {
        // The claim commits without a WAL flush (asyncCommit); a discard is flushed before the
        // worker drops its spool entry. (A server's WAL also moves with its own background work.)
        const [wal] = await store.sql.query(
          'SELECT pg_current_wal_insert_lsn() - pg_current_wal_flush_lsn() AS unflushed',
        );
        t.is(Number(wal!.unflushed), 0, 'the discard is on disk');
      }
      t.is(await store.getInstance(first.SOPInstanceUID), null, 'nothing claimed');
      t.is(await discarded('study', studyHash), 1);
      t.is(await discarded('patient', patientHash), 0);
      t.is(await buried(firstHash), erasureId, 'buried under the same erasure');
      // Its job re-run: the instance tombstone it left is the most specific match now.
      t.is(await store.beginInstance(first, probe), 'discarded');
      t.is(await discarded('instance', firstHash), 1);
      t.is(await discarded('study', studyHash), 1);
      // An erased instance, whatever its study; no patient probe (erased patients kept off).
      const erased = { instance: instanceHash, study: sha256(), patient: null };
      t.is(await store.beginInstance(sample().object, erased), 'discarded');
      t.is(await discarded('instance', instanceHash), 1);
      // Nothing matches: claimed as without tombstones.
      const fresh = sample().object;
      const none = { instance: sha256(), study: sha256(), patient: null };
      t.is(await store.beginInstance(fresh, none), 'new');
      t.is((await store.getInstance(fresh.SOPInstanceUID))?.state, 'pending');
      t.is(await buried(none.instance), undefined);
    },
  );

  test.serial(
    `${adapter}: 20 concurrent begins, two different byte streams: one new`,
    async (t) => {
      const { object } = sample();
      const shas = [sha256(), sha256()];
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.beginInstance({ ...object, sha256: shas[i % 2] }),
        ),
      );
      t.is(outcomes.filter((o) => o === 'new').length, 1, outcomes.join());
      const winner = shas[outcomes.indexOf('new') % 2];
      outcomes.forEach((outcome, i) => {
        if (outcome !== 'new') t.is(outcome, shas[i % 2] === winner ? 'resume' : 'conflict');
      });
      t.is((await store.getInstance(object.SOPInstanceUID))?.sha256, winner);
    },
  );

  test.serial(`${adapter}: completeInstance twice leaves the same rows`, async (t) => {
    const { object, attributes, metadata } = sample({ PatientID: 'LBX-TEST-IDEMPOTENT' });
    await store.beginInstance(object);
    const rows = async () => ({
      counts: await store.counts(),
      instance: await store.sql.query('SELECT * FROM instance WHERE sop_instance_uid = $1', [
        object.SOPInstanceUID,
      ]),
      series: await store.sql.query('SELECT * FROM series WHERE series_instance_uid = $1', [
        attributes.SeriesInstanceUID,
      ]),
      study: await store.sql.query('SELECT * FROM study WHERE study_instance_uid = $1', [
        attributes.StudyInstanceUID,
      ]),
      patient: await store.sql.query('SELECT * FROM patient WHERE patient_id = $1', [
        attributes.PatientID,
      ]),
    });
    await store.completeInstance(object, attributes, metadata);
    const first = await rows();
    await store.completeInstance(object, attributes, metadata);
    t.deepEqual(await rows(), first);
    t.deepEqual(first.instance[0]?.metadata, metadata, 'metadata kept as jsonb');
  });

  test.serial(
    `${adapter}: metadata_text and bits_allocated follow the stored header, whoever writes it (0007, 0009)`,
    async (t) => {
      const { object, attributes, metadata } = sample({
        StudyInstanceUID: uid(),
        SeriesInstanceUID: uid(),
      });
      const header = { ...metadata, '00280100': { vr: 'US', Value: [16] } };
      await store.beginInstance(object);
      await store.completeInstance(object, attributes, header);
      const read = async () =>
        (
          await store.sql.query<{ same: boolean; text: string; bits: number | null }>(
            `SELECT metadata_text = metadata::text AS same, metadata_text AS text,
                    bits_allocated AS bits FROM instance WHERE sop_instance_uid = $1`,
            [object.SOPInstanceUID],
          )
        )[0];
      t.like(await read(), { same: true, bits: 16 });
      t.deepEqual(JSON.parse((await read())!.text), header);
      await store.sql.query(
        `UPDATE instance SET metadata = metadata || '{"00081030": {"vr": "LO", "Value": ["New"]},
                                                     "00280100": {"vr": "US", "Value": [8]}}'
         WHERE sop_instance_uid = $1`,
        [object.SOPInstanceUID],
      );
      t.like(await read(), { same: true, bits: 8 }, 'an update of the header updates both');
      for (const malformed of ['[1e9]', '["x"]', '[-1]', '[]']) {
        await store.sql.query(
          `UPDATE instance SET metadata = jsonb_set(metadata, '{00280100,Value}', $2::jsonb)
           WHERE sop_instance_uid = $1`,
          [object.SOPInstanceUID, malformed],
        );
        t.like(await read(), { same: true, bits: null }, `BitsAllocated ${malformed}: NULL`);
      }
    },
  );

  if (adapter === 'pglite') {
    test.serial(
      `${adapter}: the store's client keeps background statements behind others`,
      async (t) => {
        // The audit trail writes in the background (core/audit/sql-audit-log.ts): on PGlite's one
        // connection a search must not wait for, or be batched with, an audit insert.
        const sql = store.sql;
        await sql.query(
          'CREATE TABLE background_order (n integer GENERATED ALWAYS AS IDENTITY, what text)',
        );
        const insert = 'INSERT INTO background_order (what) VALUES ($1)';
        await Promise.all([
          sql.query(insert, ['first']),
          sql.query(insert, ['background'], { background: true }),
          sql.query(insert, ['foreground']),
        ]);
        const rows = await sql.query<{ what: string }>(
          'SELECT what FROM background_order ORDER BY n',
        );
        t.deepEqual(
          rows.map((r) => r.what),
          ['first', 'foreground', 'background'],
        );
        await sql.query('DROP TABLE background_order');
      },
    );
  }

  test.serial(
    `${adapter}: a target's version is read with its metadata and moves with every change of its rows`,
    async (t) => {
      const StudyInstanceUID = uid();
      const [first, second] = [uid(), uid()];
      const add = async (SeriesInstanceUID: string) => {
        const { object, attributes, metadata } = sample({ StudyInstanceUID, SeriesInstanceUID });
        await store.beginInstance(object);
        await store.completeInstance(object, attributes, metadata);
        return object.SOPInstanceUID;
      };
      const study = { StudyInstanceUID };
      t.is(await store.targetVersion(study), null, 'nothing stored: no version');
      t.deepEqual(await store.retrieveMetadata(study), { version: null, instances: [] });

      const sop = await add(first);
      const v1 = await store.targetVersion(study);
      t.truthy(v1);
      t.is(await store.targetVersion(study), v1, 'unchanged: the same version');
      const read = await store.retrieveMetadata(study);
      t.is(read.version, v1, 'the metadata read carries the same version');
      t.is(read.instances.length, 1);

      await add(second);
      const v2 = await store.targetVersion(study);
      t.not(v2, v1, 'a new instance');
      t.is(
        await store.targetVersion({ ...study, SeriesInstanceUID: first }),
        v1,
        "the other series' instance is not part of this series' version",
      );

      await store.sql.query(
        `UPDATE instance SET metadata = metadata || '{"00081030": {"vr": "LO", "Value": ["New"]}}'
         WHERE sop_instance_uid = $1`,
        [sop],
      );
      const v3 = await store.targetVersion(study);
      t.not(v3, v2, 'a header written in the index');
      t.not(v3, v1);
      t.is((await store.retrieveMetadata(study)).version, v3);
    },
  );

  test.serial(
    `${adapter}: metadata comes by series, then instance number, unnumbered last`,
    async (t) => {
      const StudyInstanceUID = uid();
      const [a, b] = [uid(), uid()].sort();
      const stored: [string, number | null][] = [
        [b, 1],
        [a, null],
        [a, 10],
        [b, null],
        [a, 2],
      ];
      for (const [SeriesInstanceUID, InstanceNumber] of stored) {
        const { object, attributes, metadata } = sample({
          StudyInstanceUID,
          SeriesInstanceUID,
          InstanceNumber,
        });
        await store.beginInstance(object);
        await store.completeInstance(object, attributes, metadata);
      }
      const { instances } = await store.retrieveMetadata({ StudyInstanceUID });
      t.deepEqual(
        instances.map((i) => [i.SeriesInstanceUID, i.InstanceNumber]),
        [
          [a, 2],
          [a, 10],
          [a, null],
          [b, 1],
          [b, null],
        ],
      );
      t.true(
        instances.every((i) => i.StudyInstanceUID === StudyInstanceUID && i.size === 5_000_000_000),
      );
    },
  );

  test.serial(
    `${adapter}: QIDO computed attributes follow instances and series (0006 triggers)`,
    async (t) => {
      const StudyInstanceUID = uid();
      const [ct, mr] = [uid(), uid()];
      const stored = [
        sample({ StudyInstanceUID, SeriesInstanceUID: ct, Modality: 'CT' }),
        sample({ StudyInstanceUID, SeriesInstanceUID: ct, Modality: 'CT', InstanceNumber: 2 }),
        sample({ StudyInstanceUID, SeriesInstanceUID: mr, Modality: 'MR' }),
      ];
      for (const { object, attributes, metadata } of stored) {
        await store.beginInstance(object);
        await store.completeInstance(object, attributes, metadata);
        await store.completeInstance(object, attributes, metadata); // again: counted once
      }
      const computed = async () => {
        const [study] = await store.sql.query(
          `SELECT number_of_study_related_series AS series, number_of_study_related_instances AS instances,
                modalities_in_study AS modalities FROM study WHERE study_instance_uid = $1`,
          [StudyInstanceUID],
        );
        const series = await store.sql.query(
          `SELECT series_instance_uid, number_of_series_related_instances AS n FROM series
         WHERE study_instance_uid = $1 ORDER BY modality`,
          [StudyInstanceUID],
        );
        return { ...study, perSeries: series.map((r) => r.n) };
      };
      t.deepEqual(await computed(), {
        series: 2,
        instances: 3,
        modalities: ['CT', 'MR'],
        perSeries: [2, 1],
      });
      // A pending instance does not count until it is completed.
      const pending = sample({ StudyInstanceUID, SeriesInstanceUID: mr, Modality: 'MR' });
      await store.beginInstance(pending.object);
      t.like(await computed(), { instances: 3 });
      // Erasure: instances, then a series, go away.
      await store.sql.query('DELETE FROM instance WHERE sop_instance_uid = $1', [
        stored[0]!.object.SOPInstanceUID,
      ]);
      t.deepEqual(await computed(), {
        series: 2,
        instances: 2,
        modalities: ['CT', 'MR'],
        perSeries: [1, 1],
      });
      await store.sql.query('DELETE FROM instance WHERE series_instance_uid = $1', [mr]);
      await store.sql.query('DELETE FROM series WHERE series_instance_uid = $1', [mr]);
      t.deepEqual(await computed(), {
        series: 1,
        instances: 1,
        modalities: ['CT'],
        perSeries: [1],
      });
    },
  );

  test.serial(`${adapter}: instances of one series share its study and series rows`, async (t) => {
    const first = sample();
    const { PatientID, StudyInstanceUID, SeriesInstanceUID } = first.attributes;
    await store.completeInstance(first.object, first.attributes, first.metadata);
    const before = await store.counts();
    for (const InstanceNumber of [2, 3]) {
      const next = sample({ PatientID, StudyInstanceUID, SeriesInstanceUID, InstanceNumber });
      t.is(await store.beginInstance(next.object), 'new');
      await store.completeInstance(next.object, next.attributes, next.metadata);
    }
    t.deepEqual(delta(before, await store.counts()), counts({ instances: 2 }));
  });

  test.serial(`${adapter}: patient identity is (IssuerOfPatientID, PatientID)`, async (t) => {
    const before = await store.counts();
    const keys = [
      { IssuerOfPatientID: 'HOSPITAL-A', PatientID: 'LBX-SAME' },
      { IssuerOfPatientID: 'HOSPITAL-B', PatientID: 'LBX-SAME' },
      // PatientID is type 2 (PS3.3 §C.7.1.1): empty is legal, and still one patient.
      { IssuerOfPatientID: '', PatientID: '' },
      { IssuerOfPatientID: '', PatientID: '' },
    ];
    for (const key of keys) {
      const { object, attributes, metadata } = sample(key);
      await store.completeInstance(object, attributes, metadata);
    }
    t.deepEqual(
      delta(before, await store.counts()),
      counts({ patients: 3, studies: 4, series: 4, instances: 4 }),
    );
  });

  test.serial(
    `${adapter}: completing with other bytes than begun is a Conflict, changes nothing`,
    async (t) => {
      const { object, attributes, metadata } = sample({ PatientID: 'LBX-TEST-ROLLBACK' });
      await store.beginInstance(object);
      const before = await store.counts();
      await t.throwsAsync(
        store.completeInstance({ ...object, sha256: sha256() }, attributes, metadata),
        {
          code: 'Conflict',
        },
      );
      t.deepEqual(
        delta(before, await store.counts()),
        counts({}),
        'patient, study, series rolled back',
      );
      t.is((await store.getInstance(object.SOPInstanceUID))?.state, 'pending');
    },
  );

  test.serial(
    `${adapter}: NUL padding and out-of-range numbers do not stop indexing`,
    async (t) => {
      const { object, attributes, metadata } = sample({
        PatientName: 'Test^Padded\0',
        SeriesNumber: 2 ** 40,
      });
      metadata['00100010'] = { vr: 'PN', Value: [{ Alphabetic: 'Test^Padded\0' }] };
      await store.completeInstance(object, attributes, metadata);
      const [row] = await store.sql.query(
        `SELECT p.patient_name, s.series_number
       FROM instance i
       JOIN series s ON s.series_instance_uid = i.series_instance_uid
       JOIN study st ON st.study_instance_uid = i.study_instance_uid
       JOIN patient p ON p.patient_key = st.patient_key
       WHERE i.sop_instance_uid = $1`,
        [object.SOPInstanceUID],
      );
      t.deepEqual(row, { patient_name: 'Test^Padded', series_number: null });
    },
  );

  test.serial(`${adapter}: ping`, async (t) => {
    await t.notThrowsAsync(store.ping());
  });

  test.serial(`${adapter}: two stores migrating one new database at once`, async (t) => {
    const fresh = await createDatabase();
    t.teardown(() => fresh.drop());
    const [a, b] = [await fresh.open(), await fresh.open()];
    await Promise.all([a.migrate(), b.migrate(), a.migrate()]);
    t.deepEqual(
      (await versions(b)).map((r) => r.version),
      await shippedVersions(),
    );
    const { object, attributes, metadata } = sample();
    await a.completeInstance(object, attributes, metadata);
    t.is((await b.getInstance(object.SOPInstanceUID))?.state, 'stored');
  });
}
