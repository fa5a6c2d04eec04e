/** `npm run start:gateway`: the DIMSE gateway alone (services mode: spool volume + BullMQ). */
import { loadConfig } from '../config/load.js';
import { closeOnSignals, runMain } from '../core/lifecycle.js';
import { createLogger } from '../core/log.js';
import { createMetrics } from '../core/ops/metrics.js';
import { DEFAULT_OPS_PORTS, startOpsServer } from '../core/ops/ops-server.js';
import { readinessChecks } from '../core/ops/readiness.js';
import { createServices, receiverId } from '../core/services.js';
import { startGateway } from './gateway.js';

runMain(async () => {
  const config = loadConfig();
  const log = createLogger(config.log, { process: 'gateway' });
  const services = await createServices(config, log, {
    archive: false,
    receiverId: receiverId('gateway', config.gateway.port),
  });
  const metrics = createMetrics('gateway');
  metrics.observe({ queueDepth: () => services.queue.depth() });
  const gateway = await startGateway({ config: config.gateway, ...services, log, metrics });
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
  });
});
