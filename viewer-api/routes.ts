/**
 * THE route table of viewer-api. Every path the API serves is listed here, with the PS3.18 section
 * that defines it. Everything under /dicom-web needs the bearer token (auth.ts); what a principal may
 * read is decided per study in core/grants (404 when not granted).
 */
import Router from '@koa/router';
import type { ViewerApiConfig } from '../config/schema.js';
import { InstanceLayouts } from '../core/archive/instance-layout.js';
import type { RenderPool } from '../core/imaging/render-pool.js';
import type { Logger } from '../core/log.js';
import { opsResponse, type OpsEndpoints } from '../core/ops/ops-server.js';
import type { ArchiveServices } from '../core/services.js';
import { Authenticator } from '../core/grants/authenticator.js';
import { linkedPatientKeys } from '../core/data-rights/patient-keys.js';
import { authenticate } from './auth.js';
import { dataRightsRoutes } from './patient/data-rights.js';
import { deidentifiedShareRoutes } from './patient/deidentified-shares.js';
import { accountApi } from './patient/account.js';
import { auditApi } from './patient/audit-log.js';
import { grantsApi } from './patient/grants.js';
import { shareLinksApi } from './patient/share-links.js';
import { shareRoot } from './patient/share-root.js';
import { portalAssets } from './portal-assets.js';
import { DICOMWEB_ROOT, type DicomWebDeps } from './dicomweb/context.js';
import { qidoRs } from './dicomweb/qido-rs.js';
import { stowRs } from './dicomweb/stow-rs.js';
import { wadoRs } from './dicomweb/wado-rs.js';
import { wadoRsBulkdata } from './dicomweb/wado-rs-bulkdata.js';
import { wadoRsFrames } from './dicomweb/wado-rs-frames.js';
import { MetadataCache } from './dicomweb/metadata-cache.js';
import { wadoRsMetadata } from './dicomweb/wado-rs-metadata.js';
import { wadoRsRendered } from './dicomweb/wado-rs-rendered.js';

export function routes(
  services: ArchiveServices,
  config: ViewerApiConfig,
  log: Logger,
  ops: OpsEndpoints,
  renderPool: RenderPool,
  /** WADO-RS metadata responses kept for both roots (built ahead by startViewerApi's warmer). */
  metadataCache: MetadataCache = new MetadataCache(),
): Router {
  const router = new Router();
  // Operations (core/ops): /healthz liveness, /readyz readiness (this process's dependencies
  // answer, 503 otherwise), /metrics (Prometheus text format). No token: no patient data in them.
  for (const path of ['/healthz', '/readyz', '/metrics']) {
    router.get(path, async (ctx) => {
      const answer = (await opsResponse(path, ops))!;
      ctx.status = answer.status;
      ctx.type = answer.contentType;
      ctx.body = answer.body;
    });
  }

  // Portal: the patients' and doctors' web pages (static files, viewer-api/portal/). Listed before
  // the routers whose middleware asks every path for a token: the pages carry no credential; they
  // call the API below with the bearer token they hold.
  const portal = portalAssets();
  router.get('/portal', portal.index);
  router.get('/portal/share/:token', portal.shareLanding);
  router.get('/portal/*path', portal.asset);

  const deps: DicomWebDeps = {
    ...services,
    access: services.grants.access,
    audit: services.grants.audit,
    metrics: ops.metrics,
    layouts: new InstanceLayouts(services.objects),
    renderPool,
    config,
    log,
  };
  const authenticator = new Authenticator({
    apiToken: config.apiToken,
    tokens: services.grants.tokens,
    accounts: services.grants.accounts,
    organisations: services.grants.organisations,
  });
  const dicomweb = new Router({ prefix: DICOMWEB_ROOT });
  dicomweb.use(authenticate(authenticator));
  dicomWebResources(dicomweb, deps, metadataCache);
  router.use(dicomweb.routes(), dicomweb.allowedMethods());

  // WADO-URI, PS3.18 §10.4.2 (§9), for older viewers: same token, same grants.
  // (Route-level authentication: a prefix-less router's use() would run for every path.)
  router.get('/wado', authenticate(authenticator), wadoRsRendered(deps).wadoUri);

  // Share links (issue 4): /share/<token>/dicom-web is the same DICOMweb service, seeing exactly
  // the link's grant; GET /share/<token> describes the link, POST …/unlock takes its PIN.
  const share = shareRoot(services.grants);
  const shareRouter = new Router({ prefix: '/share/:token' });
  shareRouter.get('/', share.describe);
  shareRouter.post('/unlock', share.unlock);
  const shareDicomWeb = new Router({ prefix: '/share/:token/dicom-web' });
  shareDicomWeb.use(share.authenticate);
  dicomWebResources(shareDicomWeb, deps, metadataCache);
  router.use(shareRouter.routes(), shareRouter.allowedMethods());
  router.use(shareDicomWeb.routes(), shareDicomWeb.allowedMethods());

  // Patient / doctor API (issue 4): accounts, grants, share links, audit. JSON; 404 for "absent"
  // and "not yours" alike.
  const account = accountApi(services.grants);
  const grantsResource = grantsApi(services.grants);
  const shareLinks = shareLinksApi(services.grants);
  const api = new Router({ prefix: '/api' });
  api.use(authenticate(authenticator));
  api.get('/me', account.me);
  api.get('/patient-records', account.patientRecords);
  api.get('/doctors', account.doctors);
  api.get('/grants', grantsResource.listGrants);
  api.post('/grants', grantsResource.createGrant);
  api.delete('/grants/:grantId', grantsResource.revokeGrant);
  api.get('/share-links', shareLinks.listShareLinks);
  api.post('/share-links', shareLinks.createShareLink);
  api.delete('/share-links/:id', shareLinks.revokeShareLink);
  api.get('/audit', auditApi(services.grants).readAudit);
  router.use(api.routes(), api.allowedMethods());

  // Data rights of patient records (data-rights branch; viewer-api/patient/data-rights.ts): export
  // with DICOMDIR, erasure with receipt, restriction of processing, rectification overlay,
  // consent-gated de-identified shares. The patient's own linked records only; 404 otherwise.
  const rights = dataRightsRoutes({
    dataRights: services.dataRights,
    patientKeysOf: linkedPatientKeys(services.dataRights.sql),
  });
  const dataRightsApi = new Router({ prefix: '/api' });
  dataRightsApi.use(authenticate(authenticator));
  dataRightsApi.post('/exports', rights.startExport);
  dataRightsApi.get('/exports/:id', rights.exportStatus);
  dataRightsApi.get('/exports/:id/download', rights.downloadExport);
  dataRightsApi.post('/erasure-requests', rights.requestErasure);
  dataRightsApi.put('/patient-records/:patientKey/restriction', rights.restrict);
  dataRightsApi.delete('/patient-records/:patientKey/restriction', rights.liftRestriction);
  dataRightsApi.post('/patient-records/:patientKey/rectifications', rights.rectify);
  dataRightsApi.get('/patient-records/:patientKey/rectifications', rights.rectifications);
  dataRightsApi.put('/patient-records/:patientKey/deidentification-consent', rights.giveConsent);
  dataRightsApi.delete(
    '/patient-records/:patientKey/deidentification-consent',
    rights.withdrawConsent,
  );
  dataRightsApi.post('/deidentified-shares', rights.createDeidentifiedShare);
  router.use(dataRightsApi.routes(), dataRightsApi.allowedMethods());
  // De-identified copies (PS3.15 Annex E) for the holder of a share id: no credential, consent-gated.
  const deidentified = deidentifiedShareRoutes(services.dataRights);
  router.get('/deidentified/:shareId/instances', deidentified.listInstances);
  router.get('/deidentified/:shareId/instances/:instance', deidentified.retrieveInstance);
  return router;
}

/** Every DICOMweb resource, PS3.18 §10, on a root (/dicom-web, or a share link's). */
function dicomWebResources(
  dicomweb: Router,
  deps: DicomWebDeps,
  metadataCache: MetadataCache,
): void {
  const qido = qidoRs(deps);
  const wado = wadoRs(deps);
  const metadata = wadoRsMetadata(deps, metadataCache);
  const frames = wadoRsFrames(deps);
  const bulkdata = wadoRsBulkdata(deps);
  const stow = stowRs(deps);
  const rendered = wadoRsRendered(deps);
  const study = '/studies/:study';
  const series = `${study}/series/:series`;
  const instance = `${series}/instances/:instance`;
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
}
