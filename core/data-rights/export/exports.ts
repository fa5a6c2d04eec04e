/**
 * Export jobs: POST /api/exports starts one (202 with its id), GET shows its progress (done/total),
 * download serves the finished ZIP. The ZIP is built in the background into
 * dataRights.exportDirectory as <exportId>.zip.part and renamed when complete, so a download never
 * sees half a file. Progress lives in data_export (any process can answer); an export whose process
 * died stays 'running' until failStale() marks it failed at the next start.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { ObjectStore } from '../../archive/object-store.js';
import type { SqlQueryable } from '../../archive/sql-client.js';
import { LightboxError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { findPatientRecord } from '../patient-instances.js';
import { writeExportZip } from './export-zip.js';

export interface ExportStatus {
  exportId: string;
  patientKey: string;
  state: 'running' | 'ready' | 'failed';
  done: number;
  total: number;
}

const SELECT = `SELECT export_id, patient_key::text AS patient_key, state, done, total
  FROM data_export WHERE export_id = $1`;

/** Progress is written at most this often (plus at the end). */
const PROGRESS_EVERY_MS = 500;

export class Exports {
  private readonly running = new Map<string, Promise<void>>();

  constructor(
    private readonly deps: {
      sql: SqlQueryable;
      objects: ObjectStore;
      directory: string;
      log: Logger;
    },
  ) {}

  zipPath(exportId: string): string {
    return path.join(this.deps.directory, `${exportId}.zip`);
  }

  /** Marks exports left running by a process that stopped as failed. */
  async failStale(): Promise<void> {
    await this.deps.sql.query(
      `UPDATE data_export SET state = 'failed', finished_at = now() WHERE state = 'running'`,
    );
  }

  async start(patientKey: string, requestedBy: string): Promise<ExportStatus> {
    if (!(await findPatientRecord(this.deps.sql, patientKey))) {
      throw new LightboxError('NotFound', 'no such patient record');
    }
    const exportId = randomUUID();
    await this.deps.sql.query(
      `INSERT INTO data_export (export_id, patient_key, requested_by) VALUES ($1, $2::bigint, $3)`,
      [exportId, patientKey, requestedBy],
    );
    const job = this.build(exportId, patientKey).finally(() => this.running.delete(exportId));
    this.running.set(exportId, job);
    return { exportId, patientKey, state: 'running', done: 0, total: 0 };
  }

  /** Waits for an export started by this process (tests, shutdown). */
  async settled(exportId: string): Promise<void> {
    await this.running.get(exportId);
  }

  async status(exportId: string): Promise<ExportStatus | null> {
    if (!/^[0-9a-f-]{36}$/.test(exportId)) return null;
    const [row] = await this.deps.sql.query(SELECT, [exportId]);
    if (!row) return null;
    return {
      exportId,
      patientKey: row.patient_key as string,
      state: row.state as ExportStatus['state'],
      done: Number(row.done),
      total: Number(row.total),
    };
  }

  /** The finished ZIP; NotFound while it is not ready. */
  async download(exportId: string): Promise<{ stream: Readable; size: number }> {
    const status = await this.status(exportId);
    if (status?.state !== 'ready') throw new LightboxError('NotFound', 'export not ready');
    const file = this.zipPath(exportId);
    const { size } = await stat(file);
    return { stream: createReadStream(file), size };
  }

  /** Removes the ZIP files of a patient's exports (erasure). */
  async removeFiles(patientKey: string): Promise<number> {
    const rows = await this.deps.sql.query(
      `SELECT export_id FROM data_export WHERE patient_key = $1::bigint`,
      [patientKey],
    );
    for (const row of rows) {
      await rm(this.zipPath(row.export_id as string), { force: true });
      await rm(`${this.zipPath(row.export_id as string)}.part`, { force: true });
    }
    return rows.length;
  }

  private async build(exportId: string, patientKey: string): Promise<void> {
    const { sql, objects, log } = this.deps;
    const file = this.zipPath(exportId);
    let last = 0;
    // Progress writes are chained so that a late one never overwrites the final state.
    let saved: Promise<unknown> = Promise.resolve();
    const save = (done: number, total: number) =>
      (saved = saved
        .then(() =>
          sql.query(`UPDATE data_export SET done = $2, total = $3 WHERE export_id = $1`, [
            exportId,
            done,
            total,
          ]),
        )
        .catch(() => undefined));
    try {
      await mkdir(this.deps.directory, { recursive: true });
      const progress = await writeExportZip({
        sql,
        objects,
        patientKey,
        out: createWriteStream(`${file}.part`),
        onProgress: ({ done, total }) => {
          if (done === 0 || Date.now() - last >= PROGRESS_EVERY_MS) {
            last = Date.now();
            void save(done, total);
          }
        },
      });
      await saved;
      await rename(`${file}.part`, file);
      const { size } = await stat(file);
      await sql.query(
        `UPDATE data_export SET state = 'ready', done = $2, total = $3, bytes = $4,
           finished_at = now() WHERE export_id = $1`,
        [exportId, progress.done, progress.total, size],
      );
      log.info({ instances: progress.total, bytes: size }, 'export ready');
    } catch (error) {
      await rm(`${file}.part`, { force: true });
      log.error({ err: error }, 'export failed');
      await sql
        .query(
          `UPDATE data_export SET state = 'failed', finished_at = now() WHERE export_id = $1`,
          [exportId],
        )
        .catch(() => undefined);
    }
  }
}
