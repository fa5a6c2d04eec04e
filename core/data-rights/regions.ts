/**
 * Region choice: a patient record may be assigned to a region (dataRights.regions), and the
 * instances of that patient received from then on are stored in that region's object store. The
 * region is part of the object key (`regions/<id>/studies/…`), so every reader that follows
 * instance.object_key reaches the right store through RegionalObjectStore without knowing about
 * regions; keys without the prefix stay in the default store (`objects`), as before.
 */
import type { Readable } from 'node:stream';
import type { ByteRange, ListedObject, ObjectStat, ObjectStore } from '../archive/object-store.js';
import type { Config } from '../../config/schema.js';
import { createObjectStore } from '../archive/create-object-store.js';
import type { SqlQueryable } from '../archive/sql-client.js';
import { LightboxError } from '../errors.js';

const PREFIX = 'regions/';

/** The key prefix of a region ('' for the default store). */
export function regionKeyPrefix(region: string | undefined): string {
  return region ? `${PREFIX}${region}/` : '';
}

export class RegionalObjectStore implements ObjectStore {
  constructor(
    private readonly defaultStore: ObjectStore,
    private readonly regions: ReadonlyMap<string, ObjectStore>,
  ) {}

  private route(key: string): { store: ObjectStore; key: string } {
    if (!key.startsWith(PREFIX)) return { store: this.defaultStore, key };
    const slash = key.indexOf('/', PREFIX.length);
    const store = this.regions.get(key.slice(PREFIX.length, slash));
    if (slash < 0 || !store) {
      throw new LightboxError('StorageUnavailable', 'object in a region that is not configured');
    }
    return { store, key: key.slice(slash + 1) };
  }

  putObject(key: string, body: Readable, size: number): Promise<void> {
    const r = this.route(key);
    return r.store.putObject(r.key, body, size);
  }

  putFile(key: string, filePath: string, size: number): Promise<void> {
    const r = this.route(key);
    return r.store.putFile(r.key, filePath, size);
  }

  getObject(key: string, range?: ByteRange): Promise<Readable> {
    const r = this.route(key);
    return r.store.getObject(r.key, range);
  }

  statObject(key: string): Promise<ObjectStat | null> {
    const r = this.route(key);
    return r.store.statObject(r.key);
  }

  /** Default store's keys as they are, each region's under its `regions/<id>/` prefix. */
  async *listObjects(prefix: string): AsyncIterable<ListedObject> {
    if (!prefix.startsWith(PREFIX)) yield* this.defaultStore.listObjects(prefix);
    for (const [id, store] of this.regions) {
      const own = regionKeyPrefix(id);
      if (!prefix.startsWith(own) && !own.startsWith(prefix)) continue;
      const inner = prefix.startsWith(own) ? prefix.slice(own.length) : '';
      for await (const object of store.listObjects(inner)) {
        yield { ...object, key: own + object.key };
      }
    }
  }

  removeObject(key: string): Promise<void> {
    const r = this.route(key);
    return r.store.removeObject(r.key);
  }

  async ping(): Promise<void> {
    await Promise.all([this.defaultStore, ...this.regions.values()].map((s) => s.ping()));
  }

  async close(): Promise<void> {
    await Promise.all([this.defaultStore, ...this.regions.values()].map((s) => s.close()));
  }
}

/** Assigns a record to a configured region (new instances only: stored ones stay where they are). */
export async function assignRegion(
  sql: SqlQueryable,
  regions: readonly string[],
  patientKey: string,
  region: string,
): Promise<void> {
  if (!regions.includes(region)) throw new LightboxError('BadRequest', 'no such region');
  const rows = await sql.query(
    `INSERT INTO patient_region (patient_key, region)
     SELECT patient_key, $2 FROM patient WHERE patient_key = $1::bigint
     ON CONFLICT (patient_key) DO UPDATE SET region = EXCLUDED.region, assigned_at = now()
     RETURNING 1`,
    [patientKey, region],
  );
  if (rows.length === 0) throw new LightboxError('NotFound', 'no such patient record');
}

/** The region of the patient an incoming instance belongs to, if the record has one. */
export async function regionOfPatient(
  sql: SqlQueryable,
  IssuerOfPatientID: string,
  PatientID: string,
): Promise<string | undefined> {
  const [row] = await sql.query(
    `SELECT r.region FROM patient_region r JOIN patient p ON p.patient_key = r.patient_key
     WHERE p.issuer_of_patient_id = $1 AND p.patient_id = $2`,
    [IssuerOfPatientID.replaceAll('\0', ''), PatientID.replaceAll('\0', '')],
  );
  return (row?.region as string | undefined) ?? undefined;
}

/**
 * The object store of `objects`, or, with dataRights.regions configured, a RegionalObjectStore that
 * routes `regions/<id>/…` keys to each region's own store and every other key to `objects`.
 */
export async function createArchiveObjectStore(config: Readonly<Config>): Promise<ObjectStore> {
  const main = await createObjectStore(config.objects);
  const entries = Object.entries(config.dataRights.regions);
  if (entries.length === 0) return main;
  const regions = new Map<string, ObjectStore>();
  try {
    for (const [id, settings] of entries) regions.set(id, await createObjectStore(settings));
  } catch (error) {
    await Promise.all([main, ...regions.values()].map((s) => s.close().catch(() => undefined)));
    throw error;
  }
  return new RegionalObjectStore(main, regions);
}
