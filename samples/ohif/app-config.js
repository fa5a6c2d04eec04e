/**
 * OHIF Viewer 3.x configuration for Lightbox's DICOMweb service (viewer-api, /dicom-web).
 * Verified with OHIF 3.13.2 (npm @ohif/app) by test/viewer-api/ohif.int.test.ts.
 *
 * Use it as the viewer's app-config.js (docker `ohif/app`: mount it at
 * /usr/share/nginx/html/app-config.js; the npm package @ohif/app: replace dist/app-config.js;
 * source tree: platform/app/public/config/lightbox.js with APP_CONFIG=config/lightbox.js). Set
 * LIGHTBOX below, then open the viewer with the archive's API token (or a patient's or doctor's
 * token from `lightbox token`):
 *
 *   http://localhost:3000/?token=<apiToken>
 *
 * Lightbox is default deny: every DICOMweb request needs `Authorization: Bearer <token>`. OHIF
 * itself reads `?token=` only on its viewer route, not on the study list, so this file does it for
 * both: it takes the token from the URL, drops it from the address bar, keeps it for the tab
 * (sessionStorage: gone when the tab closes, not shared with other tabs) and hands it to OHIF's
 * userAuthenticationService, which sends it on every request (QIDO, WADO, frames, thumbnails,
 * STOW). The embedded Lightbox logs its API token at startup and keeps it in
 * <data directory>/api-token; or set LIGHTBOX_API_TOKEN.
 *
 * Lightbox answers CORS preflights for any origin by default; set viewerApi.corsOrigins
 * (HTTP_CORS_ORIGINS) to the viewer's origin, e.g. http://localhost:3000, to allow only it.
 */

/** Where Lightbox's viewer API listens (`npm start`: 127.0.0.1:8042). */
const LIGHTBOX = 'http://127.0.0.1:8042';

const config = {
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
        // WADO-URI (PS3.18 §10.4.2), used with imageRendering: 'wadouri' (the stored object).
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
        // Thumbnails drawn by OHIF from the frames it fetches anyway, for every encoding it decodes.
        // Lightbox also serves the thumbnail and rendered resources: 'thumbnail' has it draw them
        // (a 128 px JPEG per series, on its render threads) and works as well.
        thumbnailRendering: 'wadors',
        // Metadata carries absolute BulkDataURIs (PS3.18 §F.2.6) of the bulkdata resource, which
        // answers multipart/related or single-part application/octet-stream, with byte ranges.
        bulkDataURI: { enabled: true },
        singlepart: false,
        // STOW-RS (PS3.18 §10.5) through the same ingest path as C-STORE: the study list's Upload
        // button. Storing needs a token that may store (the API token, an organisation's).
        supportsStow: true,
        dicomUploadEnabled: true,
        supportsReject: false,
      },
    },
  ],
};

/** The token of `?token=` (then kept for this tab), or the one kept earlier in this tab. */
function lightboxToken() {
  const url = new URL(window.location.href);
  const token = url.searchParams.get('token');
  if (token) {
    sessionStorage.setItem('lightbox.token', token);
    url.searchParams.delete('token');
    window.history.replaceState(window.history.state, '', url);
  }
  return token || sessionStorage.getItem('lightbox.token');
}

// OHIF calls a function config with its services manager before registering the services;
// onConfiguration runs when the data source initialises (study list or viewer), once they exist.
window.config = ({ servicesManager }) => {
  const token = lightboxToken();
  config.dataSources[0].configuration.onConfiguration = (configuration) => {
    if (token) {
      servicesManager.services.userAuthenticationService.setServiceImplementation({
        getAuthorizationHeader: () => ({ Authorization: `Bearer ${token}` }),
      });
    }
    return configuration;
  };
  return config;
};
