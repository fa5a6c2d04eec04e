/**
 * startViewerApi: listens with the Koa app on viewerApi.host:port.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ViewerApiConfig } from '../config/schema.js';
import type { Logger } from '../core/log.js';
import type { OpsEndpoints } from '../core/ops/ops-server.js';
import type { ArchiveServices } from '../core/services.js';
import { createApp } from './app.js';

export interface ViewerApi {
  port: number;
  url: string;
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
  const server = http.createServer(createApp(deps.services, log, deps.config, deps.ops).callback());
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
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
