/**
 * The erasure receipt: what was erased (counts), when, by whom, and a SHA-256 over the exact JSON of
 * that body, so that the holder of a receipt can show it was not altered. No patient data: the
 * patient key is the archive's own row number.
 */
import { createHash } from 'node:crypto';

export interface ErasureCounts {
  studies: number;
  series: number;
  instances: number;
  conflicts: number;
  objects: number;
  exports: number;
  rectifications: number;
  grants: number;
  shareLinks: number;
  recordLinks: number;
}

export interface ErasureReceiptBody {
  erasureId: string;
  patientKey: string;
  requestedBy: string;
  startedAt: string;
  erasedAt: string;
  counts: ErasureCounts;
}

export interface ErasureReceipt extends ErasureReceiptBody {
  receiptSha256: string;
}

/** The canonical text of a receipt body: fixed key order, no whitespace. */
export function receiptText(body: ErasureReceiptBody): string {
  const c = body.counts;
  return JSON.stringify({
    erasureId: body.erasureId,
    patientKey: body.patientKey,
    requestedBy: body.requestedBy,
    startedAt: body.startedAt,
    erasedAt: body.erasedAt,
    counts: {
      studies: c.studies,
      series: c.series,
      instances: c.instances,
      conflicts: c.conflicts,
      objects: c.objects,
      exports: c.exports,
      rectifications: c.rectifications,
      grants: c.grants,
      shareLinks: c.shareLinks,
      recordLinks: c.recordLinks,
    },
  });
}

export function sealReceipt(body: ErasureReceiptBody): { text: string; receipt: ErasureReceipt } {
  const text = receiptText(body);
  const receiptSha256 = createHash('sha256').update(text).digest('hex');
  return { text, receipt: { ...(JSON.parse(text) as ErasureReceiptBody), receiptSha256 } };
}
