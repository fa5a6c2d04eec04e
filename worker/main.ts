/** `npm run start:worker`: one worker process (run as many as the queue needs). */
import { loadConfig } from '../config/load.js';
import { closeOnSignals, runMain } from '../core/lifecycle.js';
import { createLogger } from '../core/log.js';
import { createServices } from '../core/services.js';
import { startWorker } from './worker.js';

runMain(async () => {
  const config = loadConfig();
  const log = createLogger(config.log, { process: 'worker' });
  const services = await createServices(config, log, { archive: true });
  const worker = await startWorker({
    ...services,
    organisations: config.organisations,
    audit: services.grants.audit,
    log,
    concurrency: config.queue.concurrency,
    reconcileAfterMs: config.queue.kind === 'bullmq' ? config.queue.reconcileAfterMs : 0,
  });
  closeOnSignals(log, async () => {
    await worker.close();
    await services.close();
  });
});
