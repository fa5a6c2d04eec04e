/**
 * Patients, doctors, grants and share links for tests: accounts made as the CLI makes them
 * (core/grants), tokens signed with the installation's key, studies stored over STOW-RS by the
 * archive reader, and clients for /dicom-web and a share link's root.
 */
import { createRequire } from 'node:module';
import dicomweb from 'dicomweb-client';
import type { Account, AccountKind } from '../../core/grants/accounts.js';
import type { Lightbox } from '../../bin/start-lightbox.js';
import { TEST_API_TOKEN, arrayBufferOf, dicomwebClient, type DICOMwebClient } from './dicomweb.js';
import { encodeInstance, makeUID } from './synthetic.js';

const require = createRequire(import.meta.url);
(globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest ??= require('xhr2');

export interface Person {
  account: Account;
  token: string;
}

export async function person(
  lightbox: Lightbox,
  kind: AccountKind,
  displayName: string,
  organisationId?: string,
): Promise<Person> {
  const { accounts, tokens } = lightbox.services.grants;
  const account = await accounts.create({ kind, displayName, organisationId });
  const { token } = await tokens.sign({
    sub: account.accountId,
    kind,
    ...(organisationId ? { organisationId } : {}),
  });
  return { account, token };
}

/** A patient account linked to the record (no issuer, this PatientID). */
export async function patient(
  lightbox: Lightbox,
  PatientID: string,
): Promise<Person & { patientKey: string }> {
  const p = await person(lightbox, 'patient', `Patient ${PatientID}`);
  const patientKey = await lightbox.services.grants.accounts.linkPatientRecord(
    p.account.accountId,
    { IssuerOfPatientID: '', PatientID },
  );
  return { ...p, patientKey };
}

export interface StoredStudy {
  StudyInstanceUID: string;
  series: Array<{ SeriesInstanceUID: string; SOPInstanceUIDs: string[] }>;
}

/** Stores a study of `seriesCount` series × `instances` instances for a PatientID; waits until indexed. */
export async function storeStudy(
  lightbox: Lightbox & { settled(): Promise<void> },
  PatientID: string,
  seriesCount = 2,
  instances = 1,
  extra: { StudyDate?: string } = {},
): Promise<StoredStudy> {
  const StudyInstanceUID = makeUID();
  const series = Array.from({ length: seriesCount }, () => ({
    SeriesInstanceUID: makeUID(),
    SOPInstanceUIDs: Array.from({ length: instances }, () => makeUID()),
  }));
  const datasets = series.flatMap((s, i) =>
    s.SOPInstanceUIDs.map((SOPInstanceUID, n) =>
      arrayBufferOf(
        encodeInstance({
          StudyInstanceUID,
          SeriesInstanceUID: s.SeriesInstanceUID,
          SOPInstanceUID,
          PatientID,
          PatientName: 'Synthetic^Test',
          SeriesNumber: i + 1,
          InstanceNumber: n + 1,
          Rows: 8,
          Columns: 8,
          ...extra,
        }),
      ),
    ),
  );
  await dicomwebClient(lightbox.viewerApi.url, TEST_API_TOKEN).storeInstances({ datasets });
  await lightbox.settled();
  return { StudyInstanceUID, series };
}

/** dicomweb-client on any DICOMweb root (a share link's, or /dicom-web), with an optional token. */
export function clientAt(url: string, token?: string): DICOMwebClient {
  return new dicomweb.api.DICOMwebClient({
    url,
    headers: token ? { Authorization: `Bearer ${token}` } : {},
    verbose: false,
    singlepart: false,
  }) as unknown as DICOMwebClient;
}

/** JSON call on the patient / doctor API; resolves to status and parsed body. */
export async function api(
  lightbox: Lightbox,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(lightbox.viewerApi.url + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** The StudyInstanceUIDs (0020000D) of a QIDO answer. */
export function studyUIDs(matches: Array<Record<string, { Value?: unknown[] }>>): string[] {
  return matches.map((m) => String(m['0020000D']?.Value?.[0])).sort();
}

/** Moves a grant's or share link's expiry into the past, as time passing would. */
export async function expire(
  lightbox: Lightbox,
  what: 'access_grant' | 'share_link',
  id: string,
): Promise<void> {
  const column = what === 'access_grant' ? 'grant_id' : 'share_link_id';
  await lightbox.services.index.sql.query(
    `UPDATE ${what} SET expires_at = now() - interval '1 second' WHERE ${column} = $1`,
    [id],
  );
}
