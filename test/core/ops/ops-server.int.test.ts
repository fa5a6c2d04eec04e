/**
 * The ops listener of the split processes: a gateway and a worker (services mode: BullMQ on a
 * private Redis, the index on PostgreSQL) each serve /metrics, /healthz and /readyz on their own port.
 * dcmtk storescu makes the association; the gateway counts what it acknowledged and the worker what
 * it archived. Then Redis is stopped: both become unready (503) and say which dependency failed.
 */
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, storescu } from '../../helpers/dcmtk.js';
import { createTestDatabase, requirePostgres, type TestDatabase } from '../../helpers/postgres.js';
import {
  spawnLightbox,
  spawnTracked,
  waitFor,
  waitForListening,
  type SpawnedProcess,
} from '../../helpers/processes.js';
import { requireTool } from '../../helpers/tools.js';
import { writeStudy } from '../../e2e/archive.js';
import { sample } from '../../helpers/metrics.js';

interface Ports {
  dicom: number;
  gatewayOps: number;
  workerOps: number;
  redis: number;
}

async function json(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.json() };
}

const tools = (await requireTool(test, 'storescu')) && (await requireTool(test, 'redis-server'));
if (tools && (await requirePostgres(test))) {
  let work: string;
  let db: TestDatabase;
  let redis: SpawnedProcess;
  let gateway: SpawnedProcess;
  let worker: SpawnedProcess;
  const ports = {} as Ports;

  test.before(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'lightbox-ops-'));
    db = await createTestDatabase();
    for (const name of ['dicom', 'gatewayOps', 'workerOps', 'redis'] as const) {
      ports[name] = await freePort();
    }
    redis = spawnTracked('redis-server', 'redis-server', [
      '--port',
      String(ports.redis),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
    ]);
    await waitForListening(redis, ports.redis);
    const env = {
      REDIS_URL: `redis://127.0.0.1:${ports.redis}`,
      REDIS_PREFIX: 'opstest',
      DATABASE_URL: db.url,
      SPOOL_DIR: path.join(work, 'spool'),
      LIGHTBOX_DATA_DIR: work,
      DICOM_PORT: String(ports.dicom),
      LOG_LEVEL: 'warn',
    };
    gateway = spawnLightbox('gateway', { ...env, OPS_PORT: String(ports.gatewayOps) });
    worker = spawnLightbox('worker', { ...env, OPS_PORT: String(ports.workerOps) });
    await waitForListening(gateway, ports.dicom);
    await waitForListening(gateway, ports.gatewayOps);
    await waitForListening(worker, ports.workerOps);
  });
  test.after.always(async () => {
    await gateway?.stop();
    await worker?.stop();
    await redis?.stop();
    await db?.drop();
    await rm(work, { recursive: true, force: true });
  });

  test.serial('gateway and worker: healthz, readyz with their own dependencies', async (t) => {
    const gatewayOps = `http://127.0.0.1:${ports.gatewayOps}`;
    const workerOps = `http://127.0.0.1:${ports.workerOps}`;
    t.deepEqual(await json(`${gatewayOps}/healthz`), { status: 200, body: { status: 'ok' } });
    t.deepEqual(await json(`${workerOps}/healthz`), { status: 200, body: { status: 'ok' } });
    t.deepEqual(await json(`${gatewayOps}/readyz`), {
      status: 200,
      body: { status: 'ready', checks: { spool: 'ok', queue: 'ok' } },
    });
    t.deepEqual(await json(`${workerOps}/readyz`), {
      status: 200,
      body: { status: 'ready', checks: { queue: 'ok', index: 'ok', objects: 'ok' } },
    });
    t.is((await fetch(`${gatewayOps}/dicom-web/studies`)).status, 404);
  });

  test.serial('the gateway counts what it acknowledged, the worker what it archived', async (t) => {
    const study = await writeStudy(work, 5, 'ops');
    const sent = await storescu(
      ports.dicom,
      study.map((i) => i.path),
    );
    t.is(sent.code, 0, sent.stderr);
    const workerMetrics = () =>
      fetch(`http://127.0.0.1:${ports.workerOps}/metrics`).then((r) => r.text());
    const text = await waitFor(
      'the worker to archive 5 instances',
      async () => {
        const m = await workerMetrics();
        return sample(m, 'lightbox_instances_stored_total', { outcome: 'stored' }) === 5 && m;
      },
      { alive: [worker] },
    );
    t.is(sample(text, 'lightbox_queue_depth', { process: 'worker' }), 0);
    t.is(sample(text, 'lightbox_dimse_associations_total'), 0);
    const g = await fetch(`http://127.0.0.1:${ports.gatewayOps}/metrics`).then((r) => r.text());
    t.is(sample(g, 'lightbox_dimse_associations_total', { process: 'gateway' }), 1);
    t.is(
      sample(g, 'lightbox_instances_received_total', { via: 'c-store', outcome: 'accepted' }),
      5,
    );
    t.is(sample(g, 'lightbox_instances_stored_total'), 0);
    t.true(sample(g, 'lightbox_process_resident_memory_bytes') > 0);
  });

  test.serial('Redis stopped: both processes are unready and name the queue', async (t) => {
    await redis.stop();
    const gatewayReady = await json(`http://127.0.0.1:${ports.gatewayOps}/readyz`);
    t.is(gatewayReady.status, 503);
    t.like(gatewayReady.body, { status: 'unavailable', checks: { spool: 'ok' } });
    t.not((gatewayReady.body as { checks: { queue: string } }).checks.queue, 'ok');
    const workerReady = await json(`http://127.0.0.1:${ports.workerOps}/readyz`);
    t.is(workerReady.status, 503);
    t.like(workerReady.body, { checks: { index: 'ok', objects: 'ok' } });
    t.not((workerReady.body as { checks: { queue: string } }).checks.queue, 'ok');
    // Liveness does not depend on Redis: restarting the process would not help.
    t.is((await fetch(`http://127.0.0.1:${ports.gatewayOps}/healthz`)).status, 200);
  });
}
