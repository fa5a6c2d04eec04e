/**
 * THE route table of viewer-api. Every path the API serves is listed here, with the PS3.18 section
 * that defines it. Everything under /dicom-web needs the bearer token (auth.ts); what a principal may
 * read is decided per study in core/grants (404 when not granted).
 */
import Router from '@koa/router';
import type { ViewerApiConfig } from '../config/schema.js';
import { InstanceLayouts } from '../core/archive/instance-layout.js';
import { AccessControl } from '../core/grants/grants.js';
import type { Logger } from '../core/log.js';
import type { ArchiveServices } from '../core/services.js';
import { authenticate } from './auth.js';
import { portalAssets } from './portal-assets.js';
import { DICOMWEB_ROOT, type DicomWebDeps } from './dicomweb/context.js';
import { qidoRs } from './dicomweb/qido-rs.js';
import { stowRs } from './dicomweb/stow-rs.js';
import { wadoRs } from './dicomweb/wado-rs.js';
import { wadoRsBulkdata } from './dicomweb/wado-rs-bulkdata.js';
import { wadoRsFrames } from './dicomweb/wado-rs-frames.js';
import { wadoRsMetadata } from './dicomweb/wado-rs-metadata.js';
import { wadoRsRendered } from './dicomweb/wado-rs-rendered.js';

export function routes(services: ArchiveServices, config: ViewerApiConfig, log: Logger): Router {
  const router = new Router();
  /** Liveness: the process answers. */
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  /** Readiness: the index and object store answer. */
  router.get('/readyz', async (ctx) => {
    try {
      await services.index.ping();
      await services.objects.ping();
      ctx.body = { status: 'ready', queueDepth: await services.queue.depth() };
    } catch {
      ctx.status = 503;
      ctx.body = { status: 'unavailable' };
    }
  });

  // Portal: the patients' and doctors' web pages (static files, viewer-api/portal/). Listed before
  // the routers whose middleware asks every path for a token: the pages carry no credential; they
  // call the API below with the bearer token they hold.
  const portal = portalAssets();
  router.get('/portal', portal.index);
  router.get('/portal/share/:token', portal.shareLanding);
  router.get('/portal/*path', portal.asset);

  const deps: DicomWebDeps = {
    ...services,
    access: new AccessControl(services.index.sql),
    layouts: new InstanceLayouts(services.objects),
    config,
    log,
  };
  const qido = qidoRs(deps);
  const wado = wadoRs(deps);
  const metadata = wadoRsMetadata(deps);
  const frames = wadoRsFrames(deps);
  const bulkdata = wadoRsBulkdata(deps);
  const stow = stowRs(deps);
  const rendered = wadoRsRendered(deps);
  const study = '/studies/:study';
  const series = `${study}/series/:series`;
  const instance = `${series}/instances/:instance`;

  const dicomweb = new Router({ prefix: DICOMWEB_ROOT });
  dicomweb.use(authenticate(config.apiToken));
  // QIDO-RS, PS3.18 §10.6: search at every level.
  dicomweb.get('/studies', qido.searchForStudies);
  dicomweb.get('/series', qido.searchForSeries);
  dicomweb.get('/instances', qido.searchForInstances);
  dicomweb.get(`${study}/series`, qido.searchForSeries);
  dicomweb.get(`${study}/instances`, qido.searchForInstances);
  dicomweb.get(`${series}/instances`, qido.searchForInstances);
  // WADO-RS, PS3.18 §10.4: instances (§10.4.1.1.1), metadata (.2), frames (.3), bulk data (.4).
  dicomweb.get(study, wado.retrieveStudy);
  dicomweb.get(series, wado.retrieveSeries);
  dicomweb.get(instance, wado.retrieveInstance);
  dicomweb.get(`${study}/metadata`, metadata.retrieveStudyMetadata);
  dicomweb.get(`${series}/metadata`, metadata.retrieveSeriesMetadata);
  dicomweb.get(`${instance}/metadata`, metadata.retrieveInstanceMetadata);
  dicomweb.get(`${instance}/frames/:frames`, frames.retrieveFrames);
  dicomweb.get(`${instance}/bulkdata/:path`, bulkdata.retrieveBulkdata);
  // Rendered (§10.4.1.1.5) and thumbnail (§10.4.1.1.6) resources.
  dicomweb.get(`${instance}/rendered`, rendered.retrieveRenderedInstance);
  dicomweb.get(`${instance}/frames/:frames/rendered`, rendered.retrieveRenderedFrame);
  dicomweb.get(`${study}/thumbnail`, rendered.retrieveThumbnail);
  dicomweb.get(`${series}/thumbnail`, rendered.retrieveThumbnail);
  dicomweb.get(`${instance}/thumbnail`, rendered.retrieveThumbnail);
  dicomweb.get(`${instance}/frames/:frames/thumbnail`, rendered.retrieveThumbnail);
  // STOW-RS, PS3.18 §10.5: store instances, optionally into a named study.
  dicomweb.post('/studies', stow.storeInstances);
  dicomweb.post(study, stow.storeInstances);

  router.use(dicomweb.routes(), dicomweb.allowedMethods());

  // WADO-URI, PS3.18 §10.4.2 (§9), for older viewers: same token, same grants.
  const wadoUri = new Router();
  wadoUri.use(authenticate(config.apiToken));
  wadoUri.get('/wado', rendered.wadoUri);
  router.use(wadoUri.routes(), wadoUri.allowedMethods());
  return router;
}
