/**
 * Accounts (patients, doctors, administrators) and the patient records linked to patient accounts.
 * Created by the CLI (`lightbox account …`) in the embedded mode. Ids are random and opaque; display
 * names are what a patient sees when choosing a doctor, never written to logs.
 */
import { randomBytes } from 'node:crypto';
import type { SqlQueryable } from '../archive/sql-client.js';
import { LightboxError } from '../errors.js';
import type { PatientRecordRef } from './principal.js';

export const ACCOUNT_KINDS = ['patient', 'doctor', 'organisation-admin', 'platform-admin'] as const;
export type AccountKind = (typeof ACCOUNT_KINDS)[number];

export interface Account {
  accountId: string;
  kind: AccountKind;
  displayName: string;
  organisationId?: string;
  createdAt: string;
}

export interface PatientRecord extends PatientRecordRef {
  PatientName: string;
}

/** A new opaque id with a readable prefix: 128 random bits, base64url. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString('base64url')}`;
}

/** Account ids as the CLI and tokens carry them (newId's alphabet; bounded). */
export const ACCOUNT_ID = /^[A-Za-z0-9_-]{1,64}$/;

export class AccountStore {
  constructor(private readonly sql: SqlQueryable) {}

  async create(input: {
    kind: AccountKind;
    displayName: string;
    organisationId?: string;
  }): Promise<Account> {
    const displayName = input.displayName.trim();
    if (!ACCOUNT_KINDS.includes(input.kind)) throw new LightboxError('BadRequest', 'unknown kind');
    if (displayName === '' || displayName.length > 200) {
      throw new LightboxError('BadRequest', 'a display name of 1 to 200 characters is required');
    }
    if ((input.kind === 'organisation-admin') !== (input.organisationId !== undefined)) {
      throw new LightboxError(
        'BadRequest',
        'an organisation is required for, and only for, organisation-admin',
      );
    }
    const [row] = await this.sql.query(
      `INSERT INTO account (account_id, kind, display_name, organisation_id)
       VALUES ($1, $2, $3, $4) RETURNING *`,
      [
        newId(input.kind === 'patient' ? 'pat' : input.kind === 'doctor' ? 'doc' : 'adm'),
        input.kind,
        displayName,
        input.organisationId ?? null,
      ],
    );
    return toAccount(row);
  }

  async get(accountId: string): Promise<Account | undefined> {
    if (!ACCOUNT_ID.test(accountId)) return undefined;
    const [row] = await this.sql.query('SELECT * FROM account WHERE account_id = $1', [accountId]);
    return row ? toAccount(row) : undefined;
  }

  async list(kind?: AccountKind): Promise<Account[]> {
    const rows = await this.sql.query(
      `SELECT * FROM account ${kind ? 'WHERE kind = $1' : ''} ORDER BY created_at, account_id`,
      kind ? [kind] : [],
    );
    return rows.map(toAccount);
  }

  /** Doctors whose name starts with `q` (case-insensitive), for a patient choosing a grantee. */
  async searchDoctors(
    q: string,
    limit = 20,
  ): Promise<Array<Pick<Account, 'accountId' | 'displayName'>>> {
    const pattern =
      q
        .trim()
        .toLowerCase()
        .replace(/[\\%_]/g, '\\$&') + '%';
    const rows = await this.sql.query(
      `SELECT account_id, display_name FROM account
       WHERE kind = 'doctor' AND lower(display_name) LIKE $1
       ORDER BY lower(display_name), account_id LIMIT $2`,
      [pattern, limit],
    );
    return rows.map((r) => ({
      accountId: r.account_id as string,
      displayName: r.display_name as string,
    }));
  }

  /**
   * Links a patient record (Issuer of Patient ID + Patient ID) to a patient account. The patient row
   * is created if no study of it has arrived yet, so that later studies are the account's at once.
   */
  async linkPatientRecord(
    accountId: string,
    record: { IssuerOfPatientID: string; PatientID: string },
  ): Promise<string> {
    const account = await this.get(accountId);
    if (account?.kind !== 'patient') throw new LightboxError('NotFound', 'no such patient account');
    if (record.PatientID.trim() === '')
      throw new LightboxError('BadRequest', 'a PatientID is required');
    const [patient] = await this.sql.query<{ patient_key: string | number }>(
      `INSERT INTO patient (issuer_of_patient_id, patient_id) VALUES ($1, $2)
       ON CONFLICT (issuer_of_patient_id, patient_id)
       DO UPDATE SET patient_id = EXCLUDED.patient_id
       RETURNING patient_key`,
      [record.IssuerOfPatientID.trim(), record.PatientID.trim()],
    );
    await this.sql.query(
      `INSERT INTO patient_record_link (account_id, patient_key) VALUES ($1, $2)
       ON CONFLICT DO NOTHING`,
      [accountId, patient.patient_key],
    );
    return String(patient.patient_key);
  }

  /** The patient records linked to an account (a patient's own). */
  async patientRecords(accountId: string): Promise<PatientRecord[]> {
    const rows = await this.sql.query(
      `SELECT p.patient_key::text AS patient_key, p.issuer_of_patient_id, p.patient_id, p.patient_name
       FROM patient_record_link l JOIN patient p ON p.patient_key = l.patient_key
       WHERE l.account_id = $1 ORDER BY p.patient_key`,
      [accountId],
    );
    return rows.map((r) => ({
      patientKey: r.patient_key as string,
      IssuerOfPatientID: r.issuer_of_patient_id as string,
      PatientID: r.patient_id as string,
      PatientName: r.patient_name as string,
    }));
  }
}

function toAccount(row: Record<string, unknown>): Account {
  const account: Account = {
    accountId: row.account_id as string,
    kind: row.kind as AccountKind,
    displayName: row.display_name as string,
    createdAt: new Date(row.created_at as string).toISOString(),
  };
  if (row.organisation_id) account.organisationId = row.organisation_id as string;
  return account;
}
