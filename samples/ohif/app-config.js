/**
 * OHIF Viewer 3.x configuration for Lightbox's DICOMweb service (viewer-api, /dicom-web).
 *
 * Use it as the viewer's app-config.js (docker `ohif/app`: mount it at
 * /usr/share/nginx/html/app-config.js; source tree: platform/app/public/config/lightbox.js with
 * APP_CONFIG=config/lightbox.js). Then open the viewer with the archive's API token:
 *
 *   http://localhost:3000/?token=<apiToken>
 *
 * OHIF turns the `token` URL parameter into `Authorization: Bearer <apiToken>` on every DICOMweb
 * request (QIDO, WADO, frames, STOW) and drops it from the address bar. The embedded Lightbox logs
 * its token at startup and keeps it in <data directory>/api-token; or set LIGHTBOX_API_TOKEN.
 * Lightbox answers CORS preflights for any origin by default (viewerApi.corsOrigins /
 * HTTP_CORS_ORIGINS to restrict it to the viewer's origin).
 */

/** Where Lightbox's viewer API listens (`npm start`: 127.0.0.1:8042). */
const LIGHTBOX = 'http://127.0.0.1:8042';

window.config = {
  routerBasename: '/',
  showStudyList: true,
  extensions: [],
  modes: [],
  defaultDataSourceName: 'lightbox',
  dataSources: [
    {
      namespace: '@ohif/extension-default.dataSourcesModule.dicomweb',
      sourceName: 'lightbox',
      configuration: {
        friendlyName: 'Lightbox',
        name: 'lightbox',
        // QIDO-RS and WADO-RS (PS3.18 §10.6, §10.4) share one root.
        qidoRoot: `${LIGHTBOX}/dicom-web`,
        wadoRoot: `${LIGHTBOX}/dicom-web`,
        // WADO-URI (PS3.18 §10.4.2) is not served yet; OHIF needs it only for imageRendering 'wadouri'.
        wadoUriRoot: `${LIGHTBOX}/wado`,
        // QIDO-RS: every level, includefield (list and all), fuzzymatching and * ? wildcards.
        qidoSupportsIncludeField: true,
        supportsFuzzyMatching: true,
        supportsWildcard: true,
        // A real DICOMweb origin server: series-level metadata and QIDO filtering server side.
        staticWado: false,
        enableStudyLazyLoad: true,
        // Frames (PS3.18 §10.4.1.1.3) as stored, compressed or not; the part's Content-Type names
        // the transfer syntax, which OHIF's image loader decodes. Lightbox does not transcode.
        imageRendering: 'wadors',
        acceptHeader: ['multipart/related; type=application/octet-stream; transfer-syntax=*'],
        omitQuotationForMultipartRequest: false,
        // Rendered and thumbnail resources are not served yet: thumbnails are drawn from frames.
        thumbnailRendering: 'wadors',
        // Metadata carries absolute BulkDataURIs (PS3.18 §F.2.6) of the bulkdata resource, which
        // answers multipart/related or single-part application/octet-stream, with byte ranges.
        bulkDataURI: { enabled: true },
        singlepart: false,
        // STOW-RS (PS3.18 §10.5) through the same ingest path as C-STORE.
        supportsStow: true,
        dicomUploadEnabled: true,
        supportsReject: false,
      },
    },
  ],
};
