/** `npm run start:gateway`: the DIMSE gateway alone (services mode: spool volume + BullMQ). */
import type { Config } from '../config/schema.js';
import { loadConfig } from '../config/load.js';
import { createIndexStore } from '../core/archive/create-index-store.js';
import { createObjectStore } from '../core/archive/create-object-store.js';
import type { IndexStore } from '../core/archive/index-store.js';
import type { ObjectStore } from '../core/archive/object-store.js';
import { closeOnSignals, runMain } from '../core/lifecycle.js';
import { createLogger, type Logger } from '../core/log.js';
import { createMetrics } from '../core/ops/metrics.js';
import { DEFAULT_OPS_PORTS, startOpsServer } from '../core/ops/ops-server.js';
import { readinessChecks } from '../core/ops/readiness.js';
import { createServices, receiverId } from '../core/services.js';
import { startGateway } from './gateway.js';

/**
 * Query/Retrieve reads the index and the objects. PGlite belongs to one process (the worker's), so a
 * split gateway offers them only on PostgreSQL; and C-STORE must never depend on them: when they
 * cannot be opened at start, the gateway runs without Query/Retrieve rather than not at all. The
 * worker applies the migrations.
 */
async function openArchive(
  config: Readonly<Config>,
  log: Logger,
): Promise<{ index: IndexStore; objects: ObjectStore } | undefined> {
  if (config.index.kind !== 'postgres') {
    log.warn('index is PGlite: this gateway offers no Query/Retrieve or Storage Commitment');
    return undefined;
  }
  let objects: ObjectStore | undefined;
  try {
    objects = await createObjectStore(config.objects);
    return { objects, index: await createIndexStore(config.index) };
  } catch (error) {
    await objects?.close().catch(() => undefined);
    log.warn(
      { err: error },
      'archive unavailable: no Query/Retrieve or Storage Commitment until restart',
    );
    return undefined;
  }
}

runMain(async () => {
  const config = loadConfig();
  const log = createLogger(config.log, { process: 'gateway' });
  const services = await createServices(config, log, {
    archive: false,
    receiverId: receiverId('gateway', config.gateway.port),
  });
  const metrics = createMetrics('gateway');
  metrics.observe({ queueDepth: () => services.queue.depth() });
  const archive = await openArchive(config, log);
  const gateway = await startGateway({
    config: config.gateway,
    ...services,
    ...archive,
    dimse: config.dimse,
    organisations: config.organisations,
    log,
    metrics,
  });
  const ops = config.ops.enabled
    ? await startOpsServer(
        config.ops,
        DEFAULT_OPS_PORTS.gateway,
        { metrics, readiness: readinessChecks({ spool: services.spool, queue: services.queue }) },
        log,
      )
    : undefined;
  closeOnSignals(log, async () => {
    await gateway.close();
    await ops?.close();
    await services.close();
    await archive?.index.close();
    await archive?.objects.close();
  });
});
