/**
 * The OHIF Viewer as a user deploys it: the production build of the npm package @ohif/app
 * (fetched into test-data/ohif/<version>/dist by scripts/fetch-ohif.sh, which `npm run test-data`
 * runs), served as static files, with samples/ohif/app-config.js as its app-config.js. Nothing of
 * OHIF is changed: the only edit is the sample's LIGHTBOX constant, pointed at the test's Lightbox.
 */
import { access, readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FETCH_SCRIPT = `${ROOT}scripts/fetch-ohif.sh`;
export const SAMPLE_APP_CONFIG = `${ROOT}samples/ohif/app-config.js`;

/** The @ohif/app version scripts/fetch-ohif.sh pins (one place says it). */
export async function ohifVersion(): Promise<string> {
  const script = await readFile(FETCH_SCRIPT, 'utf8');
  const version = /^OHIF_VERSION=(\S+)$/m.exec(script)?.[1];
  if (!version) throw new Error(`no OHIF_VERSION in ${FETCH_SCRIPT}`);
  return version;
}

export async function ohifDist(): Promise<string> {
  return `${ROOT}test-data/ohif/${await ohifVersion()}/dist`;
}

/** Resolves when the built viewer is there (for requireService); says how to get it otherwise. */
export async function probeOhif(): Promise<void> {
  const dist = await ohifDist();
  try {
    await access(path.join(dist, 'index.html'));
  } catch {
    throw new Error(`${path.relative(ROOT, dist)} is missing: run npm run test-data`);
  }
}

/** samples/ohif/app-config.js with its LIGHTBOX constant set to `lightboxUrl`, and nothing else changed. */
export async function sampleAppConfig(lightboxUrl: string): Promise<string> {
  const sample = await readFile(SAMPLE_APP_CONFIG, 'utf8');
  const constant = /^const LIGHTBOX = '[^']*';$/gm;
  const found = sample.match(constant)?.length ?? 0;
  if (found !== 1) throw new Error(`${SAMPLE_APP_CONFIG}: ${found} LIGHTBOX constants, expected 1`);
  return sample.replace(constant, `const LIGHTBOX = '${lightboxUrl}';`);
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

export interface StaticViewer {
  url: string;
  /** What /app-config.js answers (set it before a page loads). */
  appConfig: string;
  close(): Promise<void>;
}

/**
 * Serves `dist` on 127.0.0.1 (a port chosen by the kernel) like OHIF's own deployments do: files as
 * they are, `appConfig` as /app-config.js, index.html for every other path without an extension
 * (the single-page app's routes: /, /viewer…), 404 for a missing file.
 */
export async function serveOhif(dist: string): Promise<StaticViewer> {
  const viewer = { appConfig: '' } as StaticViewer;
  const server = http.createServer((request, response) => {
    void (async () => {
      const pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
      if (pathname === '/app-config.js') {
        response.writeHead(200, { 'Content-Type': TYPES['.js'], 'Cache-Control': 'no-store' });
        response.end(viewer.appConfig);
        return;
      }
      let file = path.join(dist, path.normalize(pathname));
      if (!file.startsWith(dist + path.sep)) file = path.join(dist, 'index.html');
      const isFile = await stat(file).then(
        (s) => s.isFile(),
        () => false,
      );
      if (!isFile) {
        if (path.extname(pathname) !== '') {
          response.writeHead(404).end();
          return;
        }
        file = path.join(dist, 'index.html');
      }
      const body = await readFile(file);
      response.writeHead(200, {
        'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream',
        'Content-Length': body.length,
      });
      response.end(body);
    })().catch(() => {
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  viewer.url = `http://127.0.0.1:${port}`;
  viewer.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return viewer;
}

/** `appConfig` with the string setting `name` (which it must have once) set to `value`. */
export function withSetting(appConfig: string, name: string, value: string): string {
  const setting = new RegExp(`^(\\s*${name}: )'[^']*',$`, 'gm');
  const found = appConfig.match(setting)?.length ?? 0;
  if (found !== 1) throw new Error(`app-config.js: ${found} ${name} settings, expected 1`);
  return appConfig.replace(setting, `$1'${value}',`);
}
