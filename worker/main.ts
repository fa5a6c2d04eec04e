/** `npm run start:worker`: one worker process (run as many as the queue needs). */
import { loadConfig } from '../config/load.js';
import { closeOnSignals, runMain } from '../core/lifecycle.js';
import { createLogger } from '../core/log.js';
import { createMetrics } from '../core/ops/metrics.js';
import { DEFAULT_OPS_PORTS, startOpsServer } from '../core/ops/ops-server.js';
import { readinessChecks } from '../core/ops/readiness.js';
import { createServices } from '../core/services.js';
import { startWorker } from './worker.js';

runMain(async () => {
  const config = loadConfig();
  const log = createLogger(config.log, { process: 'worker' });
  const services = await createServices(config, log, { archive: true });
  const metrics = createMetrics('worker');
  const worker = await startWorker({
    ...services,
    organisations: config.organisations,
    audit: services.grants.audit,
    log,
    metrics,
    concurrency: config.queue.concurrency,
    reconcileAfterMs: config.queue.kind === 'bullmq' ? config.queue.reconcileAfterMs : 0,
  });
  const { queue, index, objects } = services;
  const ops = config.ops.enabled
    ? await startOpsServer(
        config.ops,
        DEFAULT_OPS_PORTS.worker,
        { metrics, readiness: readinessChecks({ queue, index, objects }) },
        log,
      )
    : undefined;
  closeOnSignals(log, async () => {
    await worker.close();
    await ops?.close();
    await services.close();
  });
});
