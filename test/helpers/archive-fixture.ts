/**
 * An archive for data-rights tests without the gateway: a PostgreSQL test database (or PGlite) with
 * the migrations applied, an fs object store in a temp directory, and archive() that stores a Part 10
 * file the way the worker does (begin → put bytes unchanged → complete).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FsObjectStore } from '../../core/archive/fs-object-store.js';
import { objectKey, type ObjectStore } from '../../core/archive/object-store.js';
import { createPgClient } from '../../core/archive/sql-client.js';
import { SqlIndexStore } from '../../core/archive/sql-index-store.js';
import { extractIndexedAttributes } from '../../core/dicom/attributes.js';
import { readPart10Header } from '../../core/dicom/part10-header.js';
import { createTestDatabase } from './postgres.js';

export interface ArchiveFixture {
  index: SqlIndexStore;
  objects: ObjectStore;
  directory: string;
  /** The PostgreSQL database of the index (for a CLI run against the same archive). */
  databaseUrl: string;
  /** Archives one file; resolves to its UIDs and where its bytes are. */
  archive(file: string, store?: ObjectStore, keyPrefix?: string): Promise<ArchivedInstance>;
  close(): Promise<void>;
}

export interface ArchivedInstance {
  StudyInstanceUID: string;
  SeriesInstanceUID: string;
  SOPInstanceUID: string;
  objectKey: string;
  sha256: string;
  size: number;
  patientKey: string;
}

export async function createArchiveFixture(): Promise<ArchiveFixture> {
  const db = await createTestDatabase();
  const directory = await mkdtemp(path.join(os.tmpdir(), 'lightbox-data-rights-'));
  const index = new SqlIndexStore(createPgClient(db.url, 4));
  await index.migrate();
  // objects/ under the directory: LIGHTBOX_DATA_DIR=<directory> finds the same store.
  const objects = new FsObjectStore(path.join(directory, 'objects'));
  await objects.init();
  return {
    index,
    objects,
    directory,
    databaseUrl: db.url,
    async archive(file, store = objects, keyPrefix = '') {
      const header = await readPart10Header(file);
      const attributes = extractIndexedAttributes(header);
      const bytes = await readFile(file);
      const object = {
        SOPInstanceUID: attributes.SOPInstanceUID,
        TransferSyntaxUID: header.meta.TransferSyntaxUID,
        objectKey: keyPrefix + objectKey(attributes),
        size: (await stat(file)).size,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        callingAETitle: 'TEST',
        receivedAt: new Date().toISOString(),
      };
      await index.beginInstance({ ...object, SOPClassUID: attributes.SOPClassUID });
      await store.putFile(object.objectKey, file, object.size);
      await index.completeInstance(object, attributes, header.dataset);
      const [row] = await index.sql.query(
        `SELECT patient_key::text AS k FROM study WHERE study_instance_uid = $1`,
        [attributes.StudyInstanceUID],
      );
      return { ...attributes, ...object, patientKey: row.k as string };
    },
    async close() {
      await index.close();
      await objects.close();
      await db.drop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
