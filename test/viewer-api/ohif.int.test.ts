/**
 * "OHIF works unmodified" (issue 3), proven in a real browser: the production build of the OHIF
 * Viewer from npm (@ohif/app, version pinned in scripts/fetch-ohif.sh), served as static files with
 * samples/ohif/app-config.js as its app-config.js (only its LIGHTBOX constant pointed at this test's
 * Lightbox, whose CORS allows that origin alone), opened in headless Debian Chromium at
 * /?token=<apiToken> as the sample's README says. Real DICOM files (pydicom's test files) sent with
 * storescu in their own transfer syntax: CT_small.dcm (CT, native), SC_rgb_rle_2frame.dcm (two
 * RGB frames, RLE Lossless, the second the first one inverted), MR_small_jpeg_ls_lossless.dcm
 * (JPEG-LS) and JPEG2000.dcm (NM, JPEG 2000).
 *
 * Checked: the study list shows the studies with the right patient, date, modality, description
 * and instance count; each opens in the viewer from the list, and its cornerstone canvas then holds
 * the image (pixels read back: not uniform; the RGB one red where frame 1 is red, cyan where
 * frame 2 is, each frame brought by the mouse wheel from the other); Upload in the study list
 * stores by STOW-RS; the sample's alternatives (WADO-URI images, thumbnails drawn by Lightbox)
 * work too; every request to Lightbox carried the token and was answered 2xx/3xx, with no console
 * error; without the token Lightbox answers 401 and OHIF lists nothing. The machine has no
 * internet: a request off loopback is blocked (and fails the test). Failure messages list the
 * page's requests to Lightbox, console errors, failed and blocked requests.
 */
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { storescu } from '../helpers/dcmtk.js';
import { TEST_API_TOKEN } from '../helpers/dicomweb.js';
import {
  ohifDist,
  ohifVersion,
  probeOhif,
  sampleAppConfig,
  serveOhif,
  withSetting,
  type StaticViewer,
} from '../helpers/ohif.js';
import { pydicomManifest, sample } from '../helpers/samples.js';
import { startTestLightbox, type TestLightbox } from '../helpers/start-lightbox.js';
import { requireService, requireTool } from '../helpers/tools.js';
import { CHROMIUM, probeChromium } from './portal/fixtures.js';

const CT = {
  StudyInstanceUID: '1.3.6.1.4.1.5962.1.2.1.20040119072730.12322',
  row: ['CompressedSamples, CT1', '19-Jan-2004 07:27 AM', 'CT', 'e+1', '1'],
};
const RGB = {
  StudyInstanceUID: '1.2.826.0.1.3680043.8.498.12406831542731051035295345080039845114',
  row: ['Lestrade, G', '01-Jan-2017 12:00 PM', 'OT', 'No Description', '1'],
};
/** MR_small_jpeg_ls_lossless.dcm: JPEG-LS Lossless frames. */
const JLS = {
  row: ['CompressedSamples, MR1', '26-Aug-2004 06:50 PM', 'MR', 'No Description', '1'],
};
/** JPEG2000.dcm: JPEG 2000 frames (NM). */
const J2K = {
  row: ['CompressedSamples, NM1', '26-Aug-2004 06:50 PM', 'NM', 'Whole Body Bone', '1'],
};

/**
 * The files sent with storescu before the tests, each with the option that makes storescu propose
 * the file's own transfer syntax (Lightbox stores what it receives).
 */
const SENT: Array<[file: string, propose: string[]]> = [
  ['CT_small.dcm', []],
  ['SC_rgb_rle_2frame.dcm', ['-xr']],
  ['MR_small_jpeg_ls_lossless.dcm', ['-xt']],
  ['JPEG2000.dcm', ['-xw']],
];

/** The flags the brief of this test asks for: no GPU, no network of Chromium's own, no sync. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const ready =
  (await requireService(test, 'Chromium at /usr/bin/chromium', probeChromium)) &&
  (await requireService(test, 'pydicom test data', pydicomManifest)) &&
  (await requireService(test, 'OHIF Viewer build (npm run test-data)', probeOhif)) &&
  (await requireTool(test, 'storescu'));

if (ready) {
  let lightbox: TestLightbox;
  let viewer: StaticViewer;
  let context: BrowserContext;
  let profile: string;
  let version: string;
  /** samples/ohif/app-config.js pointed at this Lightbox. */
  let sampleConfig: string;

  test.before(async () => {
    version = await ohifVersion();
    // The viewer's origin first: Lightbox is configured as the sample advises, CORS for it alone.
    viewer = await serveOhif(await ohifDist());
    lightbox = await startTestLightbox({
      viewerApi: { apiToken: TEST_API_TOKEN, corsOrigins: [viewer.url] },
    });
    const files = await pydicomManifest();
    for (const [file, propose] of SENT) {
      const sent = await storescu(lightbox.gateway.port, [sample(files, file).path], {
        extra: propose,
      });
      if (sent.code !== 0) throw new Error(`storescu ${file}: ${sent.stderr}`);
    }
    await lightbox.settled();
    sampleConfig = await sampleAppConfig(lightbox.viewerApi.url);
    viewer.appConfig = sampleConfig;
    // A fresh profile of its own, removed afterwards.
    profile = await mkdtemp(path.join(os.tmpdir(), 'lightbox-ohif-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
    });
  });
  test.after.always(async () => {
    await context?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
    await viewer?.close();
    await lightbox?.stop();
  });

  interface Exchange {
    status: number;
    method: string;
    path: string;
    authorization: string | undefined;
  }

  /** What one page did: its requests to Lightbox and what went wrong, for assertions and messages. */
  interface Watch {
    lightbox: Exchange[];
    consoleErrors: string[];
    pageErrors: string[];
    failed: string[];
    /** Requests the page itself cancelled (net::ERR_ABORTED: a reload, an AbortController). */
    aborted: string[];
    blocked: string[];
    report(): string;
  }

  /** A new tab whose traffic off loopback is blocked and whose requests to Lightbox are recorded. */
  async function watchedPage(): Promise<{ page: Page; watch: Watch }> {
    const page = await context.newPage();
    const base = lightbox.viewerApi.url;
    const watch: Watch = {
      lightbox: [],
      consoleErrors: [],
      pageErrors: [],
      failed: [],
      aborted: [],
      blocked: [],
      report() {
        const lines = [
          `OHIF ${version} at ${viewer.url}, Lightbox at ${base}; page ${page.url()}`,
          'requests to Lightbox:',
          ...this.lightbox.map((e) => `  ${e.status} ${e.method} ${e.path}`),
          'console errors:',
          ...this.consoleErrors.map((e) => `  ${e}`),
          'page errors:',
          ...this.pageErrors.map((e) => `  ${e}`),
          'failed requests:',
          ...this.failed.map((e) => `  ${e}`),
          'aborted by the page:',
          ...this.aborted.map((e) => `  ${e}`),
          'blocked (not loopback):',
          ...this.blocked.map((e) => `  ${e}`),
        ];
        return lines.join('\n');
      },
    };
    await page.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1' || url.protocol === 'data:' || url.protocol === 'blob:')
        return route.continue();
      watch.blocked.push(url.href);
      return route.abort('internetdisconnected');
    });
    page.on('console', (message) => {
      if (message.type() === 'error') watch.consoleErrors.push(message.text().slice(0, 500));
    });
    page.on('pageerror', (error) => watch.pageErrors.push(error.message));
    page.on('requestfailed', (request) => {
      if (watch.blocked.includes(request.url())) return;
      const errorText = request.failure()?.errorText;
      // ERR_ABORTED is the browser cancelling a request of its own accord: the test's reload
      // while OHIF refreshes its study list, or OHIF dropping a query it no longer needs. A CORS
      // refusal is ERR_FAILED, a refused or broken connection ERR_CONNECTION_*; those fail.
      const line = `${request.method()} ${request.url()}: ${errorText}`;
      (errorText === 'net::ERR_ABORTED' ? watch.aborted : watch.failed).push(line);
    });
    page.on('response', (response) => {
      const request = response.request();
      if (!response.url().startsWith(base) || request.method() === 'OPTIONS') return;
      watch.lightbox.push({
        status: response.status(),
        method: request.method(),
        path: response.url().slice(base.length),
        authorization: request.headers().authorization,
      });
    });
    return { page, watch };
  }

  /**
   * The study list's rows as the text of their first five cells (patient, date, modalities,
   * description, instances); not the row of filters (inputs), nor a "No studies" row (one cell).
   */
  const STUDY_ROWS = `[...document.querySelectorAll('table tbody tr')]
    .filter((r) => r.querySelectorAll('td').length >= 5 && !r.querySelector('input'))
    .map((r) => [...r.querySelectorAll('td')].slice(0, 5).map((c) => c.textContent.trim()))`;

  function studyRows(page: Page): Promise<string[][]> {
    return page.evaluate(STUDY_ROWS) as Promise<string[][]>;
  }

  /**
   * Statistics of what the cornerstone canvas of the (first) viewport holds, read back with
   * getImageData: the luminance's standard deviation, and the colour of the pixel at (x, y) given
   * as fractions of the width and height. A string, not a function: tsx's transform would add
   * helpers the page does not have.
   */
  function canvasPixels(page: Page, x = 0.5, y = 0.5) {
    return page.evaluate(`(() => {
      const canvas = document.querySelector('canvas.cornerstone-canvas');
      if (!canvas || canvas.width === 0 || canvas.height === 0) return null;
      const context = canvas.getContext('2d', { willReadFrequently: true });
      if (!context) return { error: 'no 2d context' };
      const { width, height } = canvas;
      const data = context.getImageData(0, 0, width, height).data;
      let sum = 0, sumSq = 0;
      const n = width * height;
      for (let i = 0; i < data.length; i += 4) {
        const l = 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2];
        sum += l; sumSq += l * l;
      }
      const mean = sum / n;
      const at = 4 * (Math.floor(${y} * height) * width + Math.floor(${x} * width));
      return {
        width, height,
        stdev: Math.sqrt(Math.max(0, sumSq / n - mean * mean)),
        pixel: [data[at], data[at + 1], data[at + 2]],
      };
    })()`) as Promise<
      { width: number; height: number; stdev: number; pixel: number[] } | { error: string } | null
    >;
  }

  /** Waits until the viewport canvas is drawn with something not uniform; returns its statistics. */
  async function drawnCanvas(page: Page, watch: Watch, x?: number, y?: number) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const stats = await canvasPixels(page, x, y);
      if (stats && 'stdev' in stats && stats.stdev > 10) return stats;
      if (Date.now() > deadline)
        throw new Error(
          `the viewport was not drawn within 30 s (${JSON.stringify(stats)})\n${watch.report()}`,
        );
      await page.waitForTimeout(250);
    }
  }

  /** Waits until the study list shows `count` studies. */
  async function waitForStudies(page: Page, watch: Watch, count: number): Promise<void> {
    await page
      .waitForFunction(`(${STUDY_ROWS}).length >= ${count}`, null, { timeout: 30_000 })
      .catch((error: Error) => {
        throw new Error(
          `the study list shows no ${count} studies: ${error.message}\n${watch.report()}`,
        );
      });
  }

  /** Dismisses what OHIF shows first to a new user, when it is there. */
  async function dismissNotices(page: Page): Promise<void> {
    const banner = page.locator('[data-cy="confirm-and-hide-button"]');
    if (await banner.isVisible()) await banner.click();
  }

  async function openFromStudyList(page: Page, watch: Watch, patient: string): Promise<void> {
    await page.getByText(patient, { exact: true }).click();
    await page.getByRole('button', { name: 'Basic Viewer' }).click();
    await page.waitForURL(/\/viewer\?/, { timeout: 15_000 }).catch((error: Error) => {
      throw new Error(`${error.message}\n${watch.report()}`);
    });
  }

  function assertAnsweredWithToken(t: import('ava').ExecutionContext, watch: Watch): void {
    t.true(watch.lightbox.length > 0, watch.report());
    const bad = watch.lightbox.filter((e) => e.status >= 400);
    t.deepEqual(bad, [], `no 4xx/5xx from Lightbox\n${watch.report()}`);
    const unauthorized = watch.lightbox.filter(
      (e) => e.authorization !== `Bearer ${TEST_API_TOKEN}`,
    );
    t.deepEqual(unauthorized, [], 'every request to Lightbox carries the token');
    t.deepEqual(watch.failed, [], `no failed request (CORS, network)\n${watch.report()}`);
    t.deepEqual(watch.pageErrors, [], `no uncaught error\n${watch.report()}`);
    t.deepEqual(watch.consoleErrors, [], `nothing logged as an error\n${watch.report()}`);
    t.deepEqual(watch.blocked, [], 'OHIF needs nothing off loopback');
  }

  test.serial('the study list shows the studies; the CT opens in the viewer, drawn', async (t) => {
    const { page, watch } = await watchedPage();
    await page.goto(`${viewer.url}/?token=${TEST_API_TOKEN}`);
    await waitForStudies(page, watch, 4);
    t.false(page.url().includes('token='), 'the token leaves the address bar');
    await dismissNotices(page);
    const rows = await studyRows(page);
    t.deepEqual([...rows].sort(), [RGB.row, JLS.row, J2K.row, CT.row].sort(), watch.report());
    t.true(
      watch.lightbox.some((e) => e.path.startsWith('/dicom-web/studies?') && e.status === 200),
      'QIDO-RS search for studies',
    );

    await openFromStudyList(page, watch, CT.row[0]);
    t.regex(
      page.url(),
      new RegExp(`StudyInstanceUIDs=${CT.StudyInstanceUID.replace(/\./g, '\\.')}`),
    );
    const drawn = await drawnCanvas(page, watch);
    t.true(drawn.stdev > 10, `the CT is drawn (luminance stdev ${drawn.stdev})`);
    t.true(
      watch.lightbox.some((e) => /\/series\/[\d.]+\/metadata$/.test(e.path) && e.status === 200),
      `series metadata retrieved\n${watch.report()}`,
    );
    t.true(
      watch.lightbox.some(
        (e) => /\/instances\/[\d.]+\/frames\/1$/.test(e.path) && e.status === 200,
      ),
      `frame 1 retrieved\n${watch.report()}`,
    );
    assertAnsweredWithToken(t, watch);
    await page.close();
  });

  test.serial(
    'a multi-frame RLE RGB image: each frame drawn, the other one brought by the mouse wheel',
    async (t) => {
      const { page, watch } = await watchedPage();
      // Same tab as a user who signed in before: the sample keeps the token for the session.
      await page.goto(`${viewer.url}/?token=${TEST_API_TOKEN}`);
      await waitForStudies(page, watch, 4);
      await page.goto(`${viewer.url}/`);
      await waitForStudies(page, watch, 4);
      await dismissNotices(page);
      await openFromStudyList(page, watch, RGB.row[0]);
      // Frame 1's top band is red (255, 0, 0); frame 2 is frame 1 inverted: cyan. Which frame OHIF
      // shows first is its own choice (a CI run under load opened this two-frame stack on frame 2,
      // asking for frame 2 alone), so the test starts from the frame drawn and scrolls to the other.
      const RED = [255, 0, 0];
      const CYAN = [0, 255, 255];
      const first = await drawnCanvas(page, watch, 0.5, 0.05);
      const onFrame1 = first.pixel.join() === RED.join();
      t.true(
        onFrame1 || first.pixel.join() === CYAN.join(),
        `frame 1 (top band red) or frame 2 (cyan) drawn, not ${first.pixel.join()}\n${watch.report()}`,
      );
      const [shown, next, expected] = onFrame1 ? [1, 2, CYAN] : [2, 1, RED];
      t.log(`OHIF opened the stack on frame ${shown}`);
      t.true(
        watch.lightbox.some((e) => e.path.endsWith(`/frames/${shown}`) && e.status === 200),
        `frame ${shown}, drawn, was retrieved\n${watch.report()}`,
      );
      const box = (await page.locator('canvas.cornerstone-canvas').first().boundingBox())!;
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      // The wheel moves down the stack (towards frame 2) or up it (towards frame 1).
      await page.mouse.wheel(0, next > shown ? 120 : -120);
      await page
        .waitForFunction(
          `(() => { const c = document.querySelector('canvas.cornerstone-canvas');
          const d = c.getContext('2d').getImageData(Math.floor(c.width / 2), Math.floor(c.height * 0.05), 1, 1).data;
          return [d[0], d[1], d[2]].join() === '${expected.join()}'; })()`,
          null,
          { timeout: 15_000 },
        )
        .catch((error: Error) => {
          throw new Error(`frame ${next} not drawn: ${error.message}\n${watch.report()}`);
        });
      t.true(
        watch.lightbox.some((e) => e.path.endsWith(`/frames/${next}`) && e.status === 200),
        `frame ${next} retrieved\n${watch.report()}`,
      );
      assertAnsweredWithToken(t, watch);
      await page.close();
    },
  );

  test.serial('JPEG-LS and JPEG 2000 frames, as stored, are decoded and drawn', async (t) => {
    const { page, watch } = await watchedPage();
    await page.goto(`${viewer.url}/?token=${TEST_API_TOKEN}`);
    for (const study of [JLS, J2K]) {
      await waitForStudies(page, watch, 4);
      await dismissNotices(page);
      await openFromStudyList(page, watch, study.row[0]);
      const drawn = await drawnCanvas(page, watch);
      t.true(drawn.stdev > 10, `${study.row[0]} is drawn (luminance stdev ${drawn.stdev})`);
      await page.goBack();
    }
    t.is(
      watch.lightbox.filter((e) => /\/frames\/1$/.test(e.path) && e.status === 200).length,
      2,
      `frame 1 of each retrieved\n${watch.report()}`,
    );
    assertAnsweredWithToken(t, watch);
    await page.close();
  });

  test.serial('Upload in the study list stores by STOW-RS; the list then counts it', async (t) => {
    const { page, watch } = await watchedPage();
    await page.goto(`${viewer.url}/?token=${TEST_API_TOKEN}`);
    await waitForStudies(page, watch, 4);
    await dismissNotices(page);
    await page.getByText('Upload', { exact: true }).click();
    // Another instance of JPEG2000.dcm's study (JPEG Extended).
    const files = await pydicomManifest();
    await page
      .locator('input[type=file]')
      .first()
      .setInputFiles(sample(files, 'JPEG-lossy.dcm').path);
    await page
      .getByText('1 file completed.')
      .waitFor({ timeout: 15_000 })
      .catch((error: Error) => {
        throw new Error(`upload not completed: ${error.message}\n${watch.report()}`);
      });
    t.true(
      watch.lightbox.some(
        (e) => e.method === 'POST' && e.path === '/dicom-web/studies' && e.status === 200,
      ),
      `STOW-RS answered 200\n${watch.report()}`,
    );
    await lightbox.settled();
    await page.getByRole('button', { name: 'Close', exact: true }).first().click();
    await page.reload();
    await waitForStudies(page, watch, 4);
    t.deepEqual(
      (await studyRows(page)).find((r) => r[0] === J2K.row[0]),
      [...J2K.row.slice(0, 4), '2'],
      watch.report(),
    );
    assertAnsweredWithToken(t, watch);
    await page.close();
  });

  test.serial(
    "the sample's alternatives: WADO-URI images and Lightbox-drawn thumbnails",
    async (t) => {
      viewer.appConfig = withSetting(
        withSetting(sampleConfig, 'imageRendering', 'wadouri'),
        'thumbnailRendering',
        'thumbnail',
      );
      try {
        const { page, watch } = await watchedPage();
        await page.goto(`${viewer.url}/?token=${TEST_API_TOKEN}`);
        await waitForStudies(page, watch, 4);
        await dismissNotices(page);
        await openFromStudyList(page, watch, CT.row[0]);
        const drawn = await drawnCanvas(page, watch);
        t.true(drawn.stdev > 10, `the CT is drawn (luminance stdev ${drawn.stdev})`);
        await page
          .locator('img[src^="blob:"]')
          .first()
          .waitFor({ timeout: 15_000 })
          .catch((error: Error) => {
            throw new Error(`no thumbnail: ${error.message}\n${watch.report()}`);
          });
        t.true(
          watch.lightbox.some(
            (e) => e.path.startsWith('/wado?requestType=WADO&') && e.status === 200,
          ),
          `WADO-URI retrieve\n${watch.report()}`,
        );
        t.true(
          watch.lightbox.some((e) => /\/thumbnail(\?|$)/.test(e.path) && e.status === 200),
          `thumbnail retrieved\n${watch.report()}`,
        );
        t.false(
          watch.lightbox.some((e) => e.path.includes('/frames/')),
          'images come from WADO-URI, not frames',
        );
        assertAnsweredWithToken(t, watch);
        await page.close();
      } finally {
        viewer.appConfig = sampleConfig;
      }
    },
  );

  test.serial('without the token, Lightbox answers 401 and OHIF lists no study', async (t) => {
    const { page, watch } = await watchedPage();
    await page.goto(`${viewer.url}/`);
    await page.getByText('Data Source Connection Error').waitFor({ timeout: 30_000 });
    t.deepEqual(await studyRows(page), []);
    t.true(watch.lightbox.length > 0, watch.report());
    t.true(
      watch.lightbox.every((e) => e.status === 401 && e.authorization === undefined),
      watch.report(),
    );
    await page.close();
  });
}
