/** `npm run start:gateway`: the DIMSE gateway alone (services mode: spool volume + BullMQ). */
import { loadConfig } from '../config/load.js';
import { closeOnSignals, runMain } from '../core/lifecycle.js';
import { createLogger } from '../core/log.js';
import { createServices, receiverId } from '../core/services.js';
import { startGateway } from './gateway.js';

runMain(async () => {
  const config = loadConfig();
  const log = createLogger(config.log, { process: 'gateway' });
  // Query/Retrieve reads the index and objects; PGlite belongs to one process (the worker's), so a
  // split gateway offers them only on PostgreSQL.
  const archive = config.index.kind === 'postgres';
  if (!archive)
    log.warn('index is PGlite: this gateway offers no Query/Retrieve or Storage Commitment');
  const services = await createServices(config, log, {
    archive,
    receiverId: receiverId('gateway', config.gateway.port),
  });
  const gateway = await startGateway({
    config: config.gateway,
    ...services,
    dimse: config.dimse,
    organisations: config.organisations,
    log,
  });
  closeOnSignals(log, async () => {
    await gateway.close();
    await services.close();
  });
});
