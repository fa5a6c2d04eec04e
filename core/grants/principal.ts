/**
 * Who is asking. The HTTP edge (viewer-api/auth.ts) resolves a request's credential to one of these;
 * the DIMSE edge (gateway/) resolves an association's Calling AE Title to an organisation. What each
 * may see is decided in core/grants, never at the edges. Identifiers here are opaque account,
 * organisation and link ids, never patient data.
 */
export type Principal =
  /** The archive's integration credential (viewerApi.apiToken): an operator's own systems. */
  | { kind: 'archive-reader' }
  /** A person whose imaging this is: sees the patient records linked to their account. */
  | { kind: 'patient'; accountId: string }
  /** A doctor: sees what patients granted to them. */
  | { kind: 'doctor'; accountId: string }
  /** An imaging provider's system (its AEs, or a token for STOW-RS): the studies it sent. */
  | { kind: 'organisation'; organisationId: string }
  /** Administers one organisation (patient-record links, its audit); no image access of its own. */
  | { kind: 'organisation-admin'; accountId: string; organisationId: string }
  /** Manages the platform (accounts, configuration); no image access. */
  | { kind: 'platform-admin'; accountId: string }
  /** Whoever holds a share link: exactly what the link grants. */
  | { kind: 'share-link'; shareLinkId: string };

export type PrincipalKind = Principal['kind'];

/** A patient record: one patient of the index (Issuer of Patient ID + Patient ID, PS3.3 §C.7.1.1). */
export interface PatientRecordRef {
  /** patient.patient_key of the index, as text (bigint). */
  patientKey: string;
  IssuerOfPatientID: string;
  PatientID: string;
}
