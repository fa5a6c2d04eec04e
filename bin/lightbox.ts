#!/usr/bin/env node
/**
 * `npm start`: Lightbox on its embedded default (or on services, when REDIS_URL / DATABASE_URL / S3_*
 * are set), gateway + worker + viewer-api in one process.
 */
import { loadConfig } from '../config/load.js';
import { closeOnSignals, runMain } from '../core/lifecycle.js';
import { startLightbox } from './start-lightbox.js';

runMain(async () => {
  const config = loadConfig();
  const lightbox = await startLightbox(config);
  const { gateway, viewerApi } = lightbox;
  lightbox.log.info(
    {
      dicom: `${config.gateway.aeTitle}@${gateway.host}:${gateway.port}`,
      http: viewerApi.url,
      queue: config.queue.kind,
      objects: config.objects.kind,
      index: config.index.kind,
    },
    'Lightbox ready',
  );
  if (lightbox.signInUrl) {
    // Printed, not logged: a credential for the operator's eyes, once, at first start.
    process.stdout.write(
      `\nFirst start: sign in as the platform administrator (valid ${config.auth.tokenTtlSeconds / 3600} h):\n  ${lightbox.signInUrl}\n` +
        `Later: \`npm run cli -- token --account <id>\` prints a new link.\n\n`,
    );
  }
  closeOnSignals(lightbox.log, () => lightbox.close());
});
