/**
 * Erasure of a patient record (GDPR art. 17): its objects in every store they were put in, its index
 * rows (instances, series, studies, patient, conflicts and their kept-aside objects), its exports,
 * rectifications, restriction, region, consents, grants and share links; then a receipt and
 * tombstones so that a re-send does not bring it back.
 *
 * Crash-safe by construction: every step is idempotent and committed on its own, in this order:
 *   begin    one transaction: the erasure row (state running, counts), the tombstones and a
 *            restriction (nothing serves the record from now on);
 *   batches  remove the objects of up to 500 instances and of their conflicts (removing an absent
 *            object succeeds), then delete those rows in one transaction;
 *   finish   one transaction: grants, links, series, studies and the patient row go, and the
 *            erasure is marked done with its sealed receipt.
 * A process killed anywhere leaves a running erasure that the next erase() of the same record
 * resumes; after finish, erase() returns the same receipt again.
 */
import { randomUUID } from 'node:crypto';
import type { ObjectStore } from '../../archive/object-store.js';
import type { SqlClient, SqlQueryable, SqlRow } from '../../archive/sql-client.js';
import { LightboxError } from '../../errors.js';
import { findPatientRecord } from '../patient-instances.js';
import { removeAccessOnRecord } from './access-on-record.js';
import { sealReceipt, type ErasureCounts, type ErasureReceipt } from './receipt.js';
import type { Tombstones } from './tombstones.js';

const BATCH = 500;

export interface ErasureDependencies {
  sql: SqlClient;
  objects: ObjectStore;
  tombstones: Tombstones;
  /** Removes the patient's export ZIP files; resolves to how many exports there were. */
  removeExportFiles(patientKey: string): Promise<number>;
  /** Test seam: called after each committed step ('begin', 'batch'); a throw stops the erasure there. */
  afterStep?(step: 'begin' | 'batch'): void | Promise<void>;
}

interface RunningErasure {
  erasureId: string;
  patientKey: string;
  requestedBy: string;
  startedAt: string;
  counts: ErasureCounts;
}

const COUNTS = `
  WITH st AS (SELECT study_instance_uid FROM study WHERE patient_key = $1::bigint),
       i AS (SELECT sop_instance_uid FROM instance WHERE study_instance_uid IN (SELECT * FROM st))
  SELECT (SELECT count(*) FROM st)::integer AS studies,
         (SELECT count(*) FROM series WHERE study_instance_uid IN (SELECT * FROM st))::integer AS series,
         (SELECT count(*) FROM i)::integer AS instances,
         (SELECT count(*) FROM instance_conflict
          WHERE sop_instance_uid IN (SELECT * FROM i))::integer AS conflicts,
         (SELECT count(*) FROM data_export WHERE patient_key = $1::bigint)::integer AS exports,
         (SELECT count(*) FROM patient_rectification
          WHERE patient_key = $1::bigint)::integer AS rectifications`;

export async function eraseRecord(
  deps: ErasureDependencies,
  patientKey: string,
  requestedBy: string,
): Promise<ErasureReceipt> {
  const found =
    (await findErasure(deps.sql, patientKey)) ?? (await begin(deps, patientKey, requestedBy));
  if ('done' in found) return found.done;
  const { running } = found;
  await deps.afterStep?.('begin');
  await removeInstances(deps, patientKey);
  running.counts.exports = await deps.removeExportFiles(patientKey);
  return finish(deps, running);
}

type Found = { done: ErasureReceipt } | { running: RunningErasure };

async function findErasure(sql: SqlQueryable, patientKey: string): Promise<Found | undefined> {
  const [row] = await sql.query(
    `SELECT erasure_id, patient_key::text AS patient_key, requested_by, state, started_at, counts,
            receipt, receipt_sha256
     FROM erasure WHERE patient_key = $1::bigint ORDER BY (state = 'running') DESC, started_at DESC
     LIMIT 1`,
    [patientKey],
  );
  if (!row) return undefined;
  if (row.state === 'done') {
    // Done, and the record is gone: the same receipt again. (A record of the same key cannot come
    // back: keys are an identity column, never reused.)
    const receipt = JSON.parse(row.receipt as string) as ErasureReceipt;
    return { done: { ...receipt, receiptSha256: row.receipt_sha256 as string } };
  }
  return { running: toRunning(row) };
}

function toRunning(row: SqlRow): RunningErasure {
  const counts = typeof row.counts === 'string' ? JSON.parse(row.counts) : row.counts;
  return {
    erasureId: row.erasure_id as string,
    patientKey: row.patient_key as string,
    requestedBy: row.requested_by as string,
    startedAt: new Date(row.started_at as string).toISOString(),
    counts: counts as ErasureCounts,
  };
}

async function begin(
  deps: ErasureDependencies,
  patientKey: string,
  requestedBy: string,
): Promise<Found> {
  const record = await findPatientRecord(deps.sql, patientKey);
  if (!record) throw new LightboxError('NotFound', 'no such patient record');
  const erasureId = randomUUID();
  await deps.sql.transaction(async (tx) => {
    const [c] = await tx.query(COUNTS, [patientKey]);
    const counts: ErasureCounts = {
      studies: c.studies as number,
      series: c.series as number,
      instances: c.instances as number,
      conflicts: c.conflicts as number,
      objects: (c.instances as number) + (c.conflicts as number),
      exports: c.exports as number,
      rectifications: c.rectifications as number,
      grants: 0,
      shareLinks: 0,
      recordLinks: 0,
    };
    await tx.query(
      `INSERT INTO erasure (erasure_id, patient_key, requested_by, counts)
       VALUES ($1, $2::bigint, $3, $4::jsonb)`,
      [erasureId, patientKey, requestedBy, JSON.stringify(counts)],
    );
    const studies = await tx.query(
      `SELECT study_instance_uid FROM study WHERE patient_key = $1::bigint`,
      [patientKey],
    );
    const studyUIDs = studies.map((r) => r.study_instance_uid as string);
    const instances = await tx.query(
      `SELECT sop_instance_uid FROM instance WHERE study_instance_uid = ANY($1::text[])`,
      [studyUIDs],
    );
    const { tombstones } = deps;
    await tombstones.bury(tx, erasureId, 'patient', [
      tombstones.patientIdentity(record.IssuerOfPatientID, record.PatientID),
    ]);
    await tombstones.bury(tx, erasureId, 'study', studyUIDs);
    await tombstones.bury(
      tx,
      erasureId,
      'instance',
      instances.map((r) => r.sop_instance_uid as string),
    );
    await tx.query(
      `INSERT INTO patient_restriction (patient_key, restricted_by) VALUES ($1::bigint, $2)
       ON CONFLICT (patient_key) DO NOTHING`,
      [patientKey, requestedBy],
    );
  });
  const found = await findErasure(deps.sql, patientKey);
  if (!found) throw new LightboxError('Internal', 'erasure vanished');
  return found;
}

/** Objects first, rows after: a crash between the two leaves rows whose objects a retry removes again. */
async function removeInstances(deps: ErasureDependencies, patientKey: string): Promise<void> {
  const { sql, objects } = deps;
  for (;;) {
    const batch = await sql.query(
      `SELECT i.sop_instance_uid, i.object_key FROM instance i
       JOIN study s ON s.study_instance_uid = i.study_instance_uid
       WHERE s.patient_key = $1::bigint LIMIT ${BATCH}`,
      [patientKey],
    );
    if (batch.length === 0) return;
    const sopUIDs = batch.map((r) => r.sop_instance_uid as string);
    const conflicts = await sql.query(
      `SELECT object_key FROM instance_conflict WHERE sop_instance_uid = ANY($1::text[])`,
      [sopUIDs],
    );
    for (const row of [...batch, ...conflicts])
      await objects.removeObject(row.object_key as string);
    await sql.transaction(async (tx) => {
      await tx.query(`DELETE FROM instance_conflict WHERE sop_instance_uid = ANY($1::text[])`, [
        sopUIDs,
      ]);
      await tx.query(`DELETE FROM instance WHERE sop_instance_uid = ANY($1::text[])`, [sopUIDs]);
    });
    await deps.afterStep?.('batch');
  }
}

async function finish(deps: ErasureDependencies, running: RunningErasure): Promise<ErasureReceipt> {
  const { patientKey } = running;
  return deps.sql.transaction(async (tx) => {
    const studies = await tx.query(
      `SELECT study_instance_uid FROM study WHERE patient_key = $1::bigint`,
      [patientKey],
    );
    const studyUIDs = studies.map((r) => r.study_instance_uid as string);
    const access = await removeAccessOnRecord(tx, patientKey);
    // An instance that arrived for the record after the batches (not tombstoned: a new study) has
    // rows only: its object is removed by the next erasure of the same identity, if any.
    await tx.query(`DELETE FROM instance WHERE study_instance_uid = ANY($1::text[])`, [studyUIDs]);
    await tx.query(`DELETE FROM series WHERE study_instance_uid = ANY($1::text[])`, [studyUIDs]);
    await tx.query(`DELETE FROM study WHERE patient_key = $1::bigint`, [patientKey]);
    await tx.query(`DELETE FROM patient WHERE patient_key = $1::bigint`, [patientKey]);
    const [now] = await tx.query(`SELECT now() AS at`);
    const { text, receipt } = sealReceipt({
      erasureId: running.erasureId,
      patientKey,
      requestedBy: running.requestedBy,
      startedAt: running.startedAt,
      erasedAt: new Date(now.at as string).toISOString(),
      counts: { ...running.counts, ...access },
    });
    await tx.query(
      `UPDATE erasure SET state = 'done', erased_at = $2::timestamptz, counts = $3::jsonb,
         receipt = $4, receipt_sha256 = $5 WHERE erasure_id = $1`,
      [
        running.erasureId,
        receipt.erasedAt,
        JSON.stringify(receipt.counts),
        text,
        receipt.receiptSha256,
      ],
    );
    return receipt;
  });
}
