/**
 * startLightbox: the embedded default in one process, gateway + worker + viewer-api over the same
 * services. Also what the end-to-end tests start, so they exercise exactly what `npm start` runs.
 */
import type { Config } from '../config/schema.js';
import { createLogger, type Logger } from '../core/log.js';
import { createFirstPlatformAdmin, signInFor } from '../core/grants/sign-in.js';
import { createMetrics, type LightboxMetrics } from '../core/ops/metrics.js';
import { readinessChecks } from '../core/ops/readiness.js';
import { createServices, receiverId, type ArchiveServices } from '../core/services.js';
import { startGateway, type Gateway } from '../gateway/gateway.js';
import { apiTokenFile, loadOrCreateApiToken } from '../viewer-api/api-token.js';
import { startViewerApi, type ViewerApi } from '../viewer-api/viewer-api.js';
import { startWorker, type Worker } from '../worker/worker.js';
import { Tag } from '../core/dicom/keywords.js';
import type { IngestJob } from '../core/queue/ingest-queue.js';

export interface Lightbox {
  config: Readonly<Config>;
  services: ArchiveServices;
  gateway: Gateway;
  worker: Worker;
  viewerApi: ViewerApi;
  log: Logger;
  /**
   * First start only: the platform administrator's sign-in link (/portal/#token=…), for the
   * operator to open. The API itself stays closed: every request needs a token.
   */
  signInUrl?: string;
  /** One registry for the three parts, served at the viewer API's /metrics. */
  metrics: LightboxMetrics;
  close(): Promise<void>;
}

export async function startLightbox(config: Readonly<Config>, log?: Logger): Promise<Lightbox> {
  const root = log ?? createLogger(config.log, { process: 'lightbox' });
  const services = await createServices(config, root, {
    archive: true,
    receiverId: receiverId('lightbox', config.gateway.port),
  });
  const metrics = createMetrics('lightbox');
  // Set once the viewer API listens; the worker tells it which studies to build metadata for.
  let viewerApi: ViewerApi | undefined;
  const worker = await startWorker({
    ...services,
    organisations: config.organisations,
    audit: services.grants.audit,
    log: root,
    metrics,
    concurrency: config.queue.concurrency,
    reconcileAfterMs: config.queue.kind === 'bullmq' ? config.queue.reconcileAfterMs : 0,
    onStored: (outcome, job) => {
      const study = outcome === 'stored' ? studyOfJob(job) : undefined;
      if (study) viewerApi?.studyStored(study);
    },
  });
  const gateway = await startGateway({
    config: config.gateway,
    ...services,
    dimse: config.dimse,
    organisations: config.organisations,
    log: root,
    metrics,
  });
  // Embedded: the ops endpoints are on the viewer API's port, and /readyz checks every dependency.
  viewerApi = await startViewerApi({
    config: { ...config.viewerApi, apiToken: await apiToken(config, root) },
    services,
    log: root,
    ops: { metrics, readiness: readinessChecks(services) },
  });
  const admin = await createFirstPlatformAdmin(services.grants.accounts);
  const signInUrl = admin
    ? (await signInFor(services.grants.tokens, admin, config.viewerApi.publicUrl ?? viewerApi.url))
        .link
    : undefined;
  return {
    config,
    services,
    gateway,
    worker,
    viewerApi,
    log: root,
    signInUrl,
    metrics,
    async close() {
      await gateway.close();
      await viewerApi.close();
      await worker.close();
      await services.close();
    },
  };
}

/**
 * The StudyInstanceUID of a job whose header the receiver handed on in memory (a job rebuilt from
 * the spool after a restart has none: its study is then built on its first request).
 */
function studyOfJob(job: IngestJob): string | undefined {
  const value = job.header?.dataset[Tag.StudyInstanceUID]?.Value?.[0];
  return typeof value === 'string' ? value : undefined;
}

/**
 * The configured API token, or the one kept beside the spool directory (generated at first start).
 * Logged once per start: it is the credential a viewer needs, not patient data.
 */
async function apiToken(config: Readonly<Config>, log: Logger): Promise<string> {
  if (config.viewerApi.apiToken) return config.viewerApi.apiToken;
  const { token, file, generated } = await loadOrCreateApiToken(
    apiTokenFile(config.spool.directory),
  );
  log.info(
    { apiToken: token, file, generated },
    'viewer API token: send "Authorization: Bearer <apiToken>" to /dicom-web (set LIGHTBOX_API_TOKEN to choose your own)',
  );
  return token;
}
