/**
 * Storage Commitment (PS3.4 Annex J): which of the referenced instances Lightbox has safely, i.e.
 * stored and indexed under the same SOP Class. A requester may learn this for what it sent itself
 * (the instance's calling AE title) or for what its principal may read (core/grants scope, in SQL);
 * anything else is reported as a failure, exactly like an instance Lightbox does not have.
 */
import type { StudyScope } from '../grants/grants.js';
import { scopeCondition } from './qido-query.js';
import type { SqlQueryable } from './sql-client.js';

export interface SOPReference {
  ReferencedSOPClassUID: string;
  ReferencedSOPInstanceUID: string;
}

/** The key of a reference in the answer: committed is per (SOP Class, SOP Instance) pair. */
export function referenceKey(r: SOPReference): string {
  return `${r.ReferencedSOPClassUID} ${r.ReferencedSOPInstanceUID}`;
}

/** The references (as referenceKey) that are committed for this requester. */
export async function findCommittedInstances(
  sql: SqlQueryable,
  references: readonly SOPReference[],
  requester: { callingAETitle: string; scope: StudyScope },
): Promise<Set<string>> {
  if (references.length === 0) return new Set();
  const params: unknown[] = [];
  const param = (value: unknown) => `$${params.push(value)}`;
  const uids = param(references.map((r) => r.ReferencedSOPInstanceUID));
  const classes = param(references.map((r) => r.ReferencedSOPClassUID));
  const readable = scopeCondition(requester.scope, 'i.study_instance_uid', param) ?? 'true';
  const text = `SELECT i.sop_class_uid, i.sop_instance_uid FROM instance i
    JOIN unnest(${uids}::text[], ${classes}::text[]) AS r(sop_instance_uid, sop_class_uid)
      ON r.sop_instance_uid = i.sop_instance_uid AND r.sop_class_uid = i.sop_class_uid
    WHERE i.state = 'stored'
      AND (i.calling_ae_title = ${param(requester.callingAETitle)} OR ${readable})`;
  const rows = await sql.query(text, params);
  return new Set(
    rows.map((row) =>
      referenceKey({
        ReferencedSOPClassUID: row.sop_class_uid as string,
        ReferencedSOPInstanceUID: row.sop_instance_uid as string,
      }),
    ),
  );
}
