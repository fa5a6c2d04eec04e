/**
 * The data rights of a patient record, in one place for the edges (viewer-api/patient/data-rights.ts,
 * cli/commands/patient-*.ts): export, erasure, restriction, rectification, region and consent-gated
 * de-identified shares. Each right is its own module; this class holds their dependencies and records
 * one audit event per exercise of a right (core/audit, actions export/erasure/restriction/…).
 */
import type { DataRightsConfig } from '../../config/schema.js';
import type { ObjectStore } from '../archive/object-store.js';
import type { SqlClient } from '../archive/sql-client.js';
import type { AuditAction, AuditChannel, AuditLog } from '../audit/audit-log.js';
import type { Principal } from '../grants/principal.js';
import { LightboxError } from '../errors.js';
import type { Logger } from '../log.js';
import { actorOf } from './actor.js';
import { eraseRecord, type ErasureDependencies } from './erasure/erasure.js';
import type { ErasureReceipt } from './erasure/receipt.js';
import { Tombstones } from './erasure/tombstones.js';
import { Exports, type ExportStatus } from './export/exports.js';
import { createIngestPolicy, type IngestPolicy } from './ingest-policy.js';
import {
  rectificationHistory,
  rectifyRecord,
  validateRectification,
  type RectificationEntry,
} from './rectification.js';
import { assignRegion } from './regions.js';
import {
  createShare,
  giveConsent,
  listShare,
  openSharedInstance,
  withdrawConsent,
  type DeidentifiedInstance,
} from './deidentify/shares.js';
import type { Readable } from 'node:stream';
import { isRestricted, liftRestriction, restrictRecord } from './restriction.js';

export interface DataRightsDependencies {
  sql: SqlClient;
  objects: ObjectStore;
  config: DataRightsConfig;
  log: Logger;
  audit?: AuditLog;
}

/** Who exercises a right, and through which edge. */
export interface Actor {
  principal: Principal;
  via: AuditChannel;
}

export class DataRights {
  readonly tombstones: Tombstones;
  readonly exports: Exports;
  readonly ingestPolicy: IngestPolicy;

  constructor(private readonly deps: DataRightsDependencies) {
    const { sql, objects, config } = deps;
    this.tombstones = new Tombstones({
      key: config.tombstoneKey,
      discardErasedPatients: config.discardErasedPatients,
    });
    this.exports = new Exports({
      sql,
      objects,
      directory: config.exportDirectory,
      log: deps.log.child({ component: 'data-rights' }),
    });
    this.ingestPolicy = createIngestPolicy({
      sql,
      tombstones: this.tombstones,
      regionsConfigured: Object.keys(config.regions).length > 0,
    });
  }

  get sql(): SqlClient {
    return this.deps.sql;
  }

  private audit(
    action: AuditAction,
    actor: Actor,
    patientKey: string,
    detail?: Record<string, unknown>,
  ) {
    this.deps.audit?.record({
      action,
      principal: actor.principal,
      via: actor.via,
      outcome: 'ok',
      patientKey,
      detail,
    });
  }

  async startExport(patientKey: string, actor: Actor): Promise<ExportStatus> {
    const status = await this.exports.start(patientKey, actorOf(actor.principal));
    this.audit('export', actor, patientKey, { exportId: status.exportId });
    return status;
  }

  async erase(
    patientKey: string,
    actor: Actor,
    afterStep?: ErasureDependencies['afterStep'],
  ): Promise<ErasureReceipt> {
    const receipt = await eraseRecord(
      {
        sql: this.deps.sql,
        objects: this.deps.objects,
        tombstones: this.tombstones,
        removeExportFiles: (key) => this.exports.removeFiles(key),
        afterStep,
      },
      patientKey,
      actorOf(actor.principal),
    );
    this.audit('erasure', actor, patientKey, {
      erasureId: receipt.erasureId,
      counts: receipt.counts,
    });
    return receipt;
  }

  async setRestriction(patientKey: string, restricted: boolean, actor: Actor): Promise<void> {
    if (restricted) await restrictRecord(this.deps.sql, patientKey, actorOf(actor.principal));
    else await liftRestriction(this.deps.sql, patientKey);
    this.audit('restriction', actor, patientKey, { restricted });
  }

  isRestricted(patientKey: string): Promise<boolean> {
    return isRestricted(this.deps.sql, patientKey);
  }

  /** Validates (BadRequest), records and overlays a correction. */
  async rectify(
    patientKey: string,
    attributes: unknown,
    reason: unknown,
    actor: Actor,
  ): Promise<RectificationEntry> {
    const valid = validateRectification(attributes, reason);
    const entry = await rectifyRecord(
      this.deps.sql,
      patientKey,
      valid,
      reason as string,
      actorOf(actor.principal),
    );
    this.audit('rectification', actor, patientKey, { attributes: Object.keys(valid) });
    return entry;
  }

  rectifications(patientKey: string): Promise<RectificationEntry[]> {
    return rectificationHistory(this.deps.sql, patientKey);
  }

  assignRegion(patientKey: string, region: string): Promise<void> {
    return assignRegion(this.deps.sql, Object.keys(this.deps.config.regions), patientKey, region);
  }

  /** Records the patient's explicit consent to de-identified sharing. */
  async giveDeidentificationConsent(patientKey: string, purpose: unknown, actor: Actor) {
    if (typeof purpose !== 'string') throw new LightboxError('BadRequest', 'purpose: a string');
    return giveConsent(this.deps.sql, patientKey, purpose, actorOf(actor.principal));
  }

  withdrawDeidentificationConsent(patientKey: string): Promise<void> {
    return withdrawConsent(this.deps.sql, patientKey);
  }

  /** A de-identified share of one study of the record; Conflict without consent. */
  async createDeidentifiedShare(patientKey: string, StudyInstanceUID: string, actor: Actor) {
    const share = await createShare(this.deps.sql, {
      patientKey,
      StudyInstanceUID,
      createdBy: actorOf(actor.principal),
    });
    this.audit('deidentified-share', actor, patientKey, { shareId: share.shareId });
    return share;
  }

  listDeidentifiedShare(shareId: string): Promise<DeidentifiedInstance[]> {
    return listShare(this.deps.sql, shareId);
  }

  openDeidentifiedInstance(shareId: string, SOPInstanceUID: string): Promise<Readable> {
    return openSharedInstance(this.deps.sql, this.deps.objects, shareId, SOPInstanceUID);
  }
}
