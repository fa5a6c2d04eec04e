/**
 * SqlAuditLog and AuditTrail on PGlite and on the PostgreSQL server (skipped when it is not running,
 * unless CI=true): a search event is one row naming its records in aligned arrays, each
 * record's patient resolved at write time; events naming one study or one instance get their
 * patient (and, for an instance, study and series) the same way. Many records go in several
 * statements without splitting an event.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import pino from 'pino';
import type { ExecutionContext } from 'ava';
import { createIndexStore } from '../../../core/archive/create-index-store.js';
import type { SqlIndexStore } from '../../../core/archive/sql-index-store.js';
import { AuditTrail } from '../../../core/audit/audit-trail.js';
import { SqlAuditLog } from '../../../core/audit/sql-audit-log.js';
import type { AuditRecord } from '../../../core/audit/audit-log.js';
import { seedPgliteDirectory } from '../../helpers/pglite-template.js';
import { createTestDatabase, requirePostgres } from '../../helpers/postgres.js';

const postgres = await requirePostgres(test);

test('pglite: search events name their records by patient; single events resolve theirs', async (t) => {
  const parent = await mkdtemp(join(tmpdir(), 'lightbox-audit-'));
  await seedPgliteDirectory(join(parent, 'index'));
  const index = await createIndexStore({ kind: 'pglite', directory: join(parent, 'index') });
  t.teardown(async () => {
    await index.close();
    await rm(parent, { recursive: true, force: true });
  });
  await searchEvents(t, index);
});

if (postgres) {
  test('postgres: search events name their records by patient; single events resolve theirs', async (t) => {
    const database = await createTestDatabase();
    const index = await createIndexStore({
      kind: 'postgres',
      databaseUrl: database.url,
      poolSize: 2,
    });
    t.teardown(async () => {
      await index.close();
      await database.drop();
    });
    await searchEvents(t, index);
  });
}

async function searchEvents(t: ExecutionContext, index: SqlIndexStore): Promise<void> {
  await index.migrate();
  const { sql } = index;
  const patients: string[] = [];
  for (const id of ['A', 'B']) {
    const [row] = await sql.query(
      `INSERT INTO patient (patient_id) VALUES ($1) RETURNING patient_key::text AS k`,
      [id],
    );
    patients.push(row!.k as string);
  }
  // 150 studies, alternately of patient A and B; one unknown UID among them.
  const studies = Array.from({ length: 150 }, (_, n) => `1.2.826.0.1.3680043.10.1.${n + 1}`);
  for (const [n, uid] of studies.entries()) {
    await sql.query(`INSERT INTO study (study_instance_uid, patient_key) VALUES ($1, $2)`, [
      uid,
      patients[n % 2],
    ]);
  }
  const unknown = '1.2.826.0.1.3680043.10.9.9';
  const records: AuditRecord[] = [...studies.slice(0, 100), unknown].map((StudyInstanceUID) => ({
    StudyInstanceUID,
  }));
  const audit = new SqlAuditLog(sql, pino({ level: 'silent' }), { flushMs: 10_000 });
  const principal = { kind: 'archive-reader' } as const;
  audit.record({ action: 'query', principal, via: 'dicomweb', outcome: 'ok', records });
  audit.record({
    action: 'query',
    principal,
    via: 'dicomweb',
    outcome: 'ok',
    records: [{ StudyInstanceUID: studies[120]!, SeriesInstanceUID: '1.2.3.4' }],
  });
  audit.record({
    action: 'retrieve',
    principal,
    via: 'dicomweb',
    outcome: 'ok',
    StudyInstanceUID: studies[3],
  });
  for (let n = 0; n < 70; n++) {
    audit.record({ action: 'query', principal, via: 'dicomweb', outcome: 'ok' });
  }
  await audit.flush();

  const rows = await sql.query(
    `SELECT action, patient_key::text AS patient_key, study_instance_uid, study_instance_uids,
            series_instance_uids, patient_keys::text[] AS patient_keys
     FROM audit_event ORDER BY audit_id`,
  );
  t.is(rows.length, 73, 'one row per event');
  const [search, seriesSearch, retrieve] = rows;
  t.deepEqual(
    search!.study_instance_uids,
    records.map((r) => r.StudyInstanceUID),
  );
  t.is(search!.series_instance_uids, null);
  t.deepEqual(
    search!.patient_keys,
    [...studies.slice(0, 100).map((_, n) => patients[n % 2]), null],
    'aligned with the studies; none for an unknown study',
  );
  t.is(search!.patient_key, null);
  t.deepEqual(seriesSearch!.series_instance_uids, ['1.2.3.4']);
  t.deepEqual(seriesSearch!.patient_keys, [patients[0]]);
  t.is(retrieve!.patient_key, patients[1]);
  t.is(retrieve!.patient_keys, null);
  t.true(rows.slice(3).every((r) => r.action === 'query' && r.study_instance_uids === null));

  // Patient B reads the search once per study of theirs, in the search's order, and the retrieve.
  await sql.query(
    `INSERT INTO account (account_id, kind, display_name) VALUES ('b', 'patient', 'B')`,
  );
  await sql.query(`INSERT INTO patient_record_link (account_id, patient_key) VALUES ('b', $1)`, [
    patients[1],
  ]);
  const trail = await new AuditTrail(sql, []).forPatient('b', 100, 0);
  const oddStudies = studies.slice(0, 100).filter((_, n) => n % 2 === 1);
  t.deepEqual(
    trail.filter((e) => e.action === 'query').map((e) => e.StudyInstanceUID),
    oddStudies,
  );
  t.deepEqual(
    trail.filter((e) => e.action === 'retrieve').map((e) => e.StudyInstanceUID),
    [studies[3]],
  );
  t.is(trail.length, 51);
}
