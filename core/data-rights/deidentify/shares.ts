/**
 * Consent-gated de-identified sharing: a patient's explicit consent record is required before a
 * de-identified share of one of their studies is made, and withdrawing it stops every share made
 * under it. A share serves de-identified copies only (deidentify-stream.ts); its id is an
 * unguessable capability, its UID secret makes the new UIDs its own. A restricted record (GDPR
 * art. 18) is not served either.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { ObjectStore } from '../../archive/object-store.js';
import type { SqlQueryable } from '../../archive/sql-client.js';
import { LightboxError } from '../../errors.js';
import { deidentify } from './deidentify-stream.js';
import { uidMap } from './uid-map.js';

export interface DeidentifiedInstance {
  StudyInstanceUID: string;
  SeriesInstanceUID: string;
  SOPInstanceUID: string;
}

export async function giveConsent(
  sql: SqlQueryable,
  patientKey: string,
  purpose: string,
  givenBy: string,
): Promise<{ consentId: string }> {
  if (purpose.trim() === '' || purpose.length > 1024) {
    throw new LightboxError('BadRequest', 'purpose: 1 to 1024 characters');
  }
  const consentId = randomUUID();
  const rows = await sql.query(
    `INSERT INTO deidentification_consent (consent_id, patient_key, purpose, given_by)
     SELECT $1, patient_key, $3, $4 FROM patient WHERE patient_key = $2::bigint RETURNING 1`,
    [consentId, patientKey, purpose, givenBy],
  );
  if (rows.length === 0) throw new LightboxError('NotFound', 'no such patient record');
  return { consentId };
}

/** Withdraws every consent of the record; shares made under them stop serving at once. */
export async function withdrawConsent(sql: SqlQueryable, patientKey: string): Promise<void> {
  await sql.query(
    `UPDATE deidentification_consent SET withdrawn_at = now()
     WHERE patient_key = $1::bigint AND withdrawn_at IS NULL`,
    [patientKey],
  );
}

export async function createShare(
  sql: SqlQueryable,
  share: { patientKey: string; StudyInstanceUID: string; createdBy: string },
): Promise<{ shareId: string }> {
  const [consent] = await sql.query(
    `SELECT consent_id FROM deidentification_consent
     WHERE patient_key = $1::bigint AND withdrawn_at IS NULL ORDER BY given_at DESC LIMIT 1`,
    [share.patientKey],
  );
  if (!consent) {
    throw new LightboxError('Conflict', 'explicit consent to de-identified sharing is required');
  }
  const shareId = randomBytes(24).toString('base64url');
  const rows = await sql.query(
    `INSERT INTO deidentified_share (share_id, patient_key, consent_id, study_instance_uid,
                                     uid_secret, created_by)
     SELECT $1, s.patient_key, $3, s.study_instance_uid, $5, $6 FROM study s
     WHERE s.study_instance_uid = $4 AND s.patient_key = $2::bigint RETURNING 1`,
    [
      shareId,
      share.patientKey,
      consent.consent_id,
      share.StudyInstanceUID,
      randomBytes(32).toString('hex'),
      share.createdBy,
    ],
  );
  if (rows.length === 0) throw new LightboxError('NotFound', 'no such study in the record');
  return { shareId };
}

/** The live share: not revoked, consent not withdrawn, record not restricted. */
async function liveShare(
  sql: SqlQueryable,
  shareId: string,
): Promise<{ StudyInstanceUID: string; uidSecret: string }> {
  const [row] = await sql.query(
    `SELECT d.study_instance_uid, d.uid_secret FROM deidentified_share d
     JOIN deidentification_consent c ON c.consent_id = d.consent_id AND c.withdrawn_at IS NULL
     WHERE d.share_id = $1 AND d.revoked_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM patient_restriction r WHERE r.patient_key = d.patient_key)`,
    [shareId],
  );
  if (!row) throw new LightboxError('NotFound', 'not found');
  return {
    StudyInstanceUID: row.study_instance_uid as string,
    uidSecret: row.uid_secret as string,
  };
}

async function studyInstances(sql: SqlQueryable, StudyInstanceUID: string) {
  return sql.query(
    `SELECT series_instance_uid, sop_instance_uid, object_key FROM instance
     WHERE study_instance_uid = $1 AND state = 'stored'
     ORDER BY series_instance_uid, instance_number NULLS LAST, sop_instance_uid`,
    [StudyInstanceUID],
  );
}

/** The instances of a share, by their de-identified UIDs. */
export async function listShare(
  sql: SqlQueryable,
  shareId: string,
): Promise<DeidentifiedInstance[]> {
  const share = await liveShare(sql, shareId);
  const map = uidMap(share.uidSecret);
  return (await studyInstances(sql, share.StudyInstanceUID)).map((r) => ({
    StudyInstanceUID: map(share.StudyInstanceUID),
    SeriesInstanceUID: map(r.series_instance_uid as string),
    SOPInstanceUID: map(r.sop_instance_uid as string),
  }));
}

/** A de-identified copy of the instance whose de-identified SOPInstanceUID is given. */
export async function openSharedInstance(
  sql: SqlQueryable,
  objects: ObjectStore,
  shareId: string,
  SOPInstanceUID: string,
): Promise<Readable> {
  const share = await liveShare(sql, shareId);
  const map = uidMap(share.uidSecret);
  const row = (await studyInstances(sql, share.StudyInstanceUID)).find(
    (r) => map(r.sop_instance_uid as string) === SOPInstanceUID,
  );
  if (!row) throw new LightboxError('NotFound', 'not found');
  return deidentify(await objects.getObject(row.object_key as string), share.uidSecret);
}
