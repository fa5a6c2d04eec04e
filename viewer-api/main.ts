/** `npm run start:viewer-api`: the HTTP API alone. */
import { loadConfig } from '../config/load.js';
import { closeOnSignals, runMain } from '../core/lifecycle.js';
import { createLogger } from '../core/log.js';
import { createServices, receiverId } from '../core/services.js';
import { startViewerApi } from './viewer-api.js';

runMain(async () => {
  const config = loadConfig();
  const log = createLogger(config.log, { process: 'viewer-api' });
  const services = await createServices(config, log, {
    archive: true,
    receiverId: receiverId('stow', config.viewerApi.port),
  });
  const viewerApi = await startViewerApi({ config: config.viewerApi, services, log });
  closeOnSignals(log, async () => {
    await viewerApi.close();
    await services.close();
  });
});
