/** `npm run start:gateway`: the DIMSE gateway alone (services mode: spool volume + BullMQ). */
import { loadConfig } from '../config/load.js';
import { closeOnSignals, runMain } from '../core/lifecycle.js';
import { createLogger } from '../core/log.js';
import { createServices, receiverId } from '../core/services.js';
import { startGateway } from './gateway.js';

runMain(async () => {
  const config = loadConfig();
  const log = createLogger(config.log, { process: 'gateway' });
  const services = await createServices(config, log, {
    archive: false,
    receiverId: receiverId('gateway', config.gateway.port),
  });
  const gateway = await startGateway({ config: config.gateway, ...services, log });
  closeOnSignals(log, async () => {
    await gateway.close();
    await services.close();
  });
});
