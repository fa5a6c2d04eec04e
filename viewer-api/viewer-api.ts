/**
 * startViewerApi: listens with the Koa app on viewerApi.host:port.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ViewerApiConfig } from '../config/schema.js';
import type { Logger } from '../core/log.js';
import type { OpsEndpoints } from '../core/ops/ops-server.js';
import type { ArchiveServices } from '../core/services.js';
import { createApp, createRenderPool } from './app.js';
import { MetadataCache } from './dicomweb/metadata-cache.js';
import { MetadataWarmer } from './dicomweb/metadata-warmer.js';
import { warmStudyMetadata } from './dicomweb/wado-rs-metadata.js';

export interface ViewerApi {
  port: number;
  url: string;
  /**
   * An instance of this study was stored (the embedded worker tells): its WADO-RS metadata is
   * built once the study is quiet, before a viewer asks (dicomweb/metadata-warmer.ts).
   */
  studyStored(StudyInstanceUID: string): void;
  /** The studies due or being built ahead (tests). */
  metadataWarmer: MetadataWarmer;
  close(): Promise<void>;
}

export async function startViewerApi(deps: {
  config: ViewerApiConfig;
  services: ArchiveServices;
  log: Logger;
  /** Metrics and readiness checks served at /metrics and /readyz (default: viewer-api's own). */
  ops?: OpsEndpoints;
}): Promise<ViewerApi> {
  const log = deps.log.child({ component: 'viewer-api' });
  if (!deps.config.apiToken) {
    log.warn('no API token configured (LIGHTBOX_API_TOKEN): every DICOMweb request is refused');
  }
  const renderPool = createRenderPool(deps.config);
  const metadataCache = new MetadataCache();
  const { index, grants } = deps.services;
  const metadataWarmer = new MetadataWarmer(
    (study) => warmStudyMetadata({ index, access: grants.access }, metadataCache, study),
    log,
  );
  const server = http.createServer(
    createApp(deps.services, log, deps.config, deps.ops, renderPool, metadataCache).callback(),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(deps.config.port, deps.config.host, () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  log.info({ url }, 'HTTP listening');
  return {
    port,
    url,
    studyStored: (study) => metadataWarmer.studyStored(study),
    metadataWarmer,
    close: async () => {
      await metadataWarmer.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await renderPool.close();
    },
  };
}
