/**
 * Share links: a patient shares a record, a study or a series with whoever holds a random token,
 * for reading or downloading, optionally behind a PIN. The link's grant lives in access_grant
 * (grantee_share_link_id), so the same SQL decides what the link sees. Revoking a link revokes its
 * grant in the same transaction. PIN failures are counted; the link locks after MAX_PIN_FAILURES.
 */
import type { SqlClient } from '../archive/sql-client.js';
import { LightboxError } from '../errors.js';
import { newId } from './accounts.js';
import { isoOrNull, resolveGrantScope, scopeOfRow, type GrantScope } from './grant-scope.js';
import { insertGrant } from './grant-store.js';
import type { Access } from './scope.js';
import { hashPin, newShareToken, SHARE_TOKEN, shareTokenDigest, verifyPin } from './share-token.js';

export const MAX_PIN_FAILURES = 5;

export interface ShareLink {
  shareLinkId: string;
  scope: GrantScope;
  access: Access;
  expiresAt: string | null;
  createdAt: string;
  revokedAt: string | null;
  pinProtected: boolean;
  locked: boolean;
}

/** A live link found by its token. */
export interface ResolvedShareLink {
  shareLinkId: string;
  /** The patient record the link's grant is on (for the audit trail). */
  patientKey: string;
  pinProtected: boolean;
  locked: boolean;
  expiresAt: string | null;
}

export type UnlockOutcome =
  | { outcome: 'unlocked'; link: ResolvedShareLink }
  | { outcome: 'wrong-pin'; remainingAttempts: number; link: ResolvedShareLink }
  | { outcome: 'locked'; link: ResolvedShareLink };

const LIVE = `sl.revoked_at IS NULL AND (sl.expires_at IS NULL OR sl.expires_at > now())`;

const SELECT_LINKS = `
  SELECT sl.*, g.patient_key, g.study_instance_uid, g.series_instance_uid, g.access
  FROM share_link sl JOIN access_grant g ON g.grantee_share_link_id = sl.share_link_id`;

export class ShareLinkStore {
  constructor(private readonly sql: SqlClient) {}

  /** Creates a link and its grant; the token is returned here only. */
  async create(
    grantorAccountId: string,
    input: { scope: GrantScope; access: Access; expiresAt: string | null; pin?: string },
  ): Promise<{ link: ShareLink; token: string }> {
    const scope = await resolveGrantScope(this.sql, grantorAccountId, input.scope);
    const token = newShareToken();
    const shareLinkId = newId('shl');
    const pinHash = input.pin === undefined ? null : await hashPin(input.pin);
    await this.sql.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO share_link (share_link_id, token_sha256, created_by, pin_hash, expires_at)
         VALUES ($1, $2, $3, $4, $5::timestamptz)`,
        [shareLinkId, shareTokenDigest(token), grantorAccountId, pinHash, input.expiresAt],
      );
      await insertGrant(tx, {
        grantorAccountId,
        grantee: { shareLinkId },
        scope,
        access: input.access,
        expiresAt: input.expiresAt,
      });
    });
    return { link: (await this.list(grantorAccountId, shareLinkId))[0], token };
  }

  /** The links a patient made (or one of them), newest first. */
  async list(grantorAccountId: string, shareLinkId?: string): Promise<ShareLink[]> {
    const rows = await this.sql.query(
      `${SELECT_LINKS} WHERE sl.created_by = $1 AND ($2::text IS NULL OR sl.share_link_id = $2)
       ORDER BY sl.created_at DESC, sl.share_link_id`,
      [grantorAccountId, shareLinkId ?? null],
    );
    return rows.map(toShareLink);
  }

  /** Revokes a link and its grant at once (idempotent); NotFound when it is not the patient's. */
  async revoke(grantorAccountId: string, shareLinkId: string): Promise<ShareLink> {
    const found = await this.sql.transaction(async (tx) => {
      const rows = await tx.query(
        `UPDATE share_link SET revoked_at = COALESCE(revoked_at, now())
         WHERE share_link_id = $1 AND created_by = $2 RETURNING share_link_id`,
        [shareLinkId, grantorAccountId],
      );
      await tx.query(
        `UPDATE access_grant SET revoked_at = COALESCE(revoked_at, now())
         WHERE grantee_share_link_id = $1 AND grantor_account_id = $2`,
        [shareLinkId, grantorAccountId],
      );
      return rows.length > 0;
    });
    if (!found) throw new LightboxError('NotFound', 'not found');
    return (await this.list(grantorAccountId, shareLinkId))[0];
  }

  /** The live link of a token (not revoked, not expired), or undefined. */
  async resolve(token: string): Promise<ResolvedShareLink | undefined> {
    if (!SHARE_TOKEN.test(token)) return undefined;
    const [row] = await this.sql.query(
      `SELECT sl.share_link_id, sl.pin_hash, sl.locked_at, sl.expires_at,
              (SELECT g.patient_key::text FROM access_grant g
               WHERE g.grantee_share_link_id = sl.share_link_id LIMIT 1) AS patient_key
       FROM share_link sl WHERE token_sha256 = $1 AND ${LIVE}`,
      [shareTokenDigest(token)],
    );
    return row ? toResolved(row) : undefined;
  }

  /** Whether a live link id is still live (a PIN session token names the link by id). */
  async isLive(shareLinkId: string): Promise<boolean> {
    const rows = await this.sql.query(
      `SELECT 1 FROM share_link sl WHERE share_link_id = $1 AND ${LIVE} AND locked_at IS NULL`,
      [shareLinkId],
    );
    return rows.length > 0;
  }

  /**
   * Checks a PIN. The attempt is counted before the PIN is compared (one atomic UPDATE), so that
   * parallel guesses cannot exceed the limit; a right PIN resets the count.
   */
  async unlock(token: string, pin: string): Promise<UnlockOutcome | undefined> {
    if (!SHARE_TOKEN.test(token)) return undefined;
    const [row] = await this.sql.query(
      `UPDATE share_link sl SET failed_attempts = failed_attempts + 1,
         locked_at = CASE WHEN failed_attempts + 1 >= ${MAX_PIN_FAILURES} THEN now() END
       WHERE token_sha256 = $1 AND ${LIVE} AND pin_hash IS NOT NULL AND locked_at IS NULL
       RETURNING share_link_id, pin_hash, failed_attempts, expires_at, locked_at,
         (SELECT g.patient_key::text FROM access_grant g
          WHERE g.grantee_share_link_id = sl.share_link_id LIMIT 1) AS patient_key`,
      [shareTokenDigest(token)],
    );
    if (!row) {
      const link = await this.resolve(token);
      if (!link || !link.pinProtected) return undefined;
      return { outcome: 'locked', link };
    }
    if (!(await verifyPin(pin, row.pin_hash as string))) {
      const failures = Number(row.failed_attempts);
      const link = toResolved(row);
      return failures >= MAX_PIN_FAILURES
        ? { outcome: 'locked', link }
        : { outcome: 'wrong-pin', remainingAttempts: MAX_PIN_FAILURES - failures, link };
    }
    await this.sql.query(
      `UPDATE share_link SET failed_attempts = 0, locked_at = NULL WHERE share_link_id = $1`,
      [row.share_link_id],
    );
    return { outcome: 'unlocked', link: toResolved({ ...row, locked_at: null }) };
  }
}

function toResolved(row: Record<string, unknown>): ResolvedShareLink {
  return {
    shareLinkId: row.share_link_id as string,
    patientKey: String(row.patient_key),
    pinProtected: row.pin_hash !== null,
    locked: row.locked_at !== null && row.locked_at !== undefined,
    expiresAt: isoOrNull(row.expires_at),
  };
}

function toShareLink(row: Record<string, unknown>): ShareLink {
  return {
    shareLinkId: row.share_link_id as string,
    scope: scopeOfRow(row),
    access: row.access as Access,
    expiresAt: isoOrNull(row.expires_at),
    createdAt: new Date(row.created_at as string).toISOString(),
    revokedAt: isoOrNull(row.revoked_at),
    pinProtected: row.pin_hash !== null,
    locked: row.locked_at !== null,
  };
}
