/**
 * Export jobs: POST /api/exports starts one (202 with its id), GET shows its progress (done/total),
 * download serves the finished ZIP. The ZIP is built in the background into
 * dataRights.exportDirectory as <exportId>.zip.part and renamed when complete, so a download never
 * sees half a file. Progress lives in data_export (any process can answer). The building process
 * writes a heartbeat every HEARTBEAT_MS; an export whose heartbeat is older than STALE_AFTER_MS lost
 * its process (a crash, a restart) and is marked failed, with its partial file removed, by
 * failStale(): at every start, and by status() for the export asked about, so that a patient sees
 * 'failed' (and can start again) instead of an export that runs forever.
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

/** The export, and whether it is running without a heartbeat for $2 ms (its process stopped). */
const SELECT = `SELECT export_id, patient_key::text AS patient_key, state, done, total,
    state = 'running' AND heartbeat_at < now() - $2::integer * interval '1 millisecond' AS stale
  FROM data_export WHERE export_id = $1`;

/** Progress is written at most this often (plus at the end). */
const PROGRESS_EVERY_MS = 500;

/** A building process proves it is alive this often. */
export const HEARTBEAT_MS = 5_000;

/** An export whose heartbeat is older than this lost its process. */
export const STALE_AFTER_MS = 60_000;

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

  /**
   * Marks as failed the running exports (all, or the one named) whose process stopped: no heartbeat
   * for `staleAfterMs`. Exports still built by a live process, this one (never asked) or another
   * (its heartbeat is fresh), are left alone.
   * Their partial files are removed from this process's export directory. Resolves to the ids.
   */
  async failStale(exportId?: string, staleAfterMs = STALE_AFTER_MS): Promise<string[]> {
    const rows = await this.deps.sql.query(
      `UPDATE data_export SET state = 'failed', finished_at = now()
       WHERE state = 'running' AND heartbeat_at < now() - $1::integer * interval '1 millisecond'
         AND ($2::text IS NULL OR export_id = $2) AND export_id <> ALL($3::text[])
       RETURNING export_id`,
      [Math.round(staleAfterMs), exportId ?? null, [...this.running.keys()]],
    );
    const ids = rows.map((row) => row.export_id as string);
    for (const id of ids) await rm(`${this.zipPath(id)}.part`, { force: true });
    if (ids.length > 0) this.deps.log.warn({ exports: ids.length }, 'stale exports marked failed');
    return ids;
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
    const [row] = await this.deps.sql.query(SELECT, [exportId, STALE_AFTER_MS]);
    if (!row) return null;
    let state = row.state as ExportStatus['state'];
    // Only a stale one is written to (a status poll is otherwise a read); failStale leaves alone
    // what this process is building.
    if (row.stale === true && (await this.failStale(exportId)).length > 0) state = 'failed';
    return {
      exportId,
      patientKey: row.patient_key as string,
      state,
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
          sql.query(
            `UPDATE data_export SET done = $2, total = $3, heartbeat_at = now()
             WHERE export_id = $1`,
            [exportId, done, total],
          ),
        )
        .catch(() => undefined));
    // The heartbeat touches heartbeat_at alone: its order against the other writes is irrelevant.
    const heartbeat = setInterval(() => {
      sql
        .query(
          `UPDATE data_export SET heartbeat_at = now() WHERE export_id = $1 AND state = 'running'`,
          [exportId],
        )
        .catch(() => undefined);
    }, HEARTBEAT_MS);
    heartbeat.unref();
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
    } finally {
      clearInterval(heartbeat);
    }
  }
}
