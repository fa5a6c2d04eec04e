/**
 * The portal in real Chromium (headless Debian chromium through playwright-core) against a real
 * Lightbox: the static files and their headers, sign-in by link, my studies with thumbnails, and the
 * viewer (frame scroll by wheel and keys, window/level by preset and drag, all through /rendered).
 * Screenshots are saved (PORTAL_SCREENSHOTS=<dir> keeps them somewhere known) and checked.
 */
import test from 'ava';
import type { Browser, Page } from 'playwright-core';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import { TEST_API_TOKEN } from '../../helpers/dicomweb.js';
import { pydicomManifest } from '../../helpers/samples.js';
import { requireService, requireTool } from '../../helpers/tools.js';
import {
  accessibilityProblems,
  checkImage,
  imageDifference,
  launchChromium,
  probeChromium,
  saveScreenshot,
  startPortalFixture,
  watchPage,
  type PortalFixture,
} from './fixtures.js';

const ready =
  (await requireService(test, 'Chromium at /usr/bin/chromium', probeChromium)) &&
  (await requireService(test, 'pydicom test data', pydicomManifest)) &&
  (await requireTool(test, 'storescu'));

if (ready) {
  let fixture: PortalFixture;
  let browser: Browser;
  const url = (p: string) => `${fixture.lightbox.viewerApi.url}${p}`;

  test.before(async () => {
    [fixture, browser] = await Promise.all([startPortalFixture(), launchChromium()]);
  });
  test.after.always(async () => {
    await browser?.close();
    await fixture?.lightbox.stop();
    if (!process.env.PORTAL_SCREENSHOTS && fixture)
      await rm(fixture.screenshots, { recursive: true, force: true });
  });

  /** The status of a plain GET with these headers. */
  function statusOf(target: string, headers: Record<string, string>): Promise<number | undefined> {
    return new Promise((resolve, reject) => {
      http
        .get(target, { headers }, (response) => {
          response.resume();
          resolve(response.statusCode);
        })
        .once('error', reject);
    });
  }

  const pageProblems = new WeakMap<Page, string[]>();

  /** A fresh browser context signed in through the link, on the studies page. */
  async function signedIn(viewport = { width: 1280, height: 900 }): Promise<Page> {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    pageProblems.set(page, watchPage(page));
    await page.goto(url(`/portal/#token=${TEST_API_TOKEN}`));
    await page.waitForSelector('.study-card');
    return page;
  }

  test.serial(
    'static files: CSP, no-referrer, ETag revalidation, share landing, 404s',
    async (t) => {
      const index = await fetch(url('/portal/'));
      t.is(index.status, 200);
      t.regex(index.headers.get('content-type') ?? '', /^text\/html/);
      t.regex(
        index.headers.get('content-security-policy') ?? '',
        /default-src 'self'.*img-src 'self' blob:/,
      );
      t.is(index.headers.get('referrer-policy'), 'no-referrer');
      t.is(index.headers.get('cache-control'), 'no-cache');
      t.true((await index.text()).includes('/portal/js/app.js'));
      const etag = index.headers.get('etag') ?? '';
      // (node:http, not fetch: fetch adds Cache-Control: no-cache to a request with a validator.)
      t.is(await statusOf(url('/portal/'), { 'If-None-Match': etag }), 304);
      const script = await fetch(url('/portal/js/viewer/viewer.js'));
      t.regex(script.headers.get('content-type') ?? '', /^text\/javascript/);
      const share = await fetch(url('/portal/share/abcdefghijklmnop_-0123456789ABCDEFGHIJKLMNO'), {
        redirect: 'manual',
      });
      t.true((await share.text()).includes('/portal/js/share-app.js'));
      t.is(
        (await fetch(url('/portal'), { redirect: 'manual' })).headers.get('location'),
        '/portal/',
      );
      for (const missing of [
        '/portal/nope.js',
        '/portal/../package.json',
        '/portal/js%2F..%2F..%2Fpackage.json',
        '/portal/share/short',
      ]) {
        t.is((await fetch(url(missing))).status, 404, missing);
      }
    },
  );

  test.serial(
    'sign in by link: token to sessionStorage, fragment cleared, studies with thumbnails',
    async (t) => {
      const page = await signedIn();
      t.is(new URL(page.url()).hash, '#/studies');
      t.is(await page.evaluate(() => sessionStorage.getItem('lightbox.token')), TEST_API_TOKEN);
      t.is(await page.evaluate(() => localStorage.length), 0);
      const studies = await page.$$eval('.study-card', (cards) =>
        cards.map((c) => (c as HTMLElement).dataset.study),
      );
      t.deepEqual(
        studies.sort(),
        [fixture.ct, fixture.pattern, fixture.other].map((s) => s.StudyInstanceUID).sort(),
      );
      // Every thumbnail is a decoded image (blob: URL, natural size > 0), fetched with the token.
      await page.waitForFunction(() =>
        [...document.querySelectorAll<HTMLImageElement>('.study-card img')].every(
          (i) => i.complete && i.naturalWidth > 0,
        ),
      );
      const sizes = await page.$$eval('.study-card img', (imgs) =>
        imgs.map((i) => ({
          w: (i as HTMLImageElement).naturalWidth,
          src: (i as HTMLImageElement).src,
        })),
      );
      t.is(sizes.length, 3);
      for (const s of sizes) {
        t.true(s.w > 0);
        t.regex(s.src, /^blob:/);
      }
      t.regex((await page.textContent('.study-list')) ?? '', /Knee MR pattern/);
      const shot = await saveScreenshot(page, fixture.screenshots, 'studies');
      t.is(shot.width, 1280);
      t.true(shot.stdev > 20, `studies page is not blank (stdev ${shot.stdev})`);
      t.deepEqual(await accessibilityProblems(page), []);
      t.deepEqual(pageProblems.get(page), [], 'no CSP violation, no page error');
      await page.context().close();
    },
  );

  test.serial(
    'viewer: wheel and keys scroll frames, window/level changes the pixels',
    async (t) => {
      const page = await signedIn();
      await page.click(`.study-card[data-study="${fixture.pattern.StudyInstanceUID}"] a`);
      const image = page.locator('img.rendered');
      await page.waitForSelector('img.rendered[data-rendered]');
      const rendered = () => image.getAttribute('data-rendered');
      const first = await rendered();
      t.regex(
        first ?? '',
        new RegExp(
          `/series/${fixture.pattern.SeriesInstanceUIDs[0]}/instances/[0-9.]+/frames/1/rendered$`,
        ),
      );
      const before = await image.screenshot();
      t.true((await checkImage(before)).stdev > 10);

      await page.hover('.image-frame');
      await page.mouse.wheel(0, 100);
      await page.waitForFunction(
        (p) => document.querySelector('img.rendered')?.getAttribute('data-rendered') !== p,
        first,
      );
      t.regex((await rendered()) ?? '', /\/frames\/2\/rendered$/);
      t.is(await page.textContent('.position'), 'Image 1 of 1 · frame 2 of 6');
      const second = await image.screenshot();
      t.true((await imageDifference(before, second)) > 1, 'frame 2 shows another image');

      await page.focus('.image-frame');
      await page.keyboard.press('End');
      await page.waitForFunction(() =>
        document
          .querySelector('img.rendered')
          ?.getAttribute('data-rendered')
          ?.endsWith('/frames/6/rendered'),
      );
      await page.keyboard.press('ArrowUp');
      await page.waitForFunction(() =>
        document
          .querySelector('img.rendered')
          ?.getAttribute('data-rendered')
          ?.endsWith('/frames/5/rendered'),
      );

      // A preset: the rendered request carries window=center,width,linear and the pixels change.
      const beforeWindow = await image.screenshot();
      await page.click('button[data-preset="Bone"]');
      await page.waitForFunction(() =>
        document
          .querySelector('img.rendered')
          ?.getAttribute('data-rendered')
          ?.includes('window=400,1800,linear'),
      );
      t.true(
        (await imageDifference(beforeWindow, await image.screenshot())) > 5,
        'the Bone window changes the pixels',
      );
      // A drag from there: right widens, down raises the level.
      const box = (await page.locator('.image-frame').boundingBox())!;
      const boneShot = await image.screenshot();
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width / 2 + 60, box.y + box.height / 2 + 80, { steps: 4 });
      await page.mouse.up();
      await page.waitForFunction(() =>
        /window=962\.5,2643\.75,linear$/.test(
          document.querySelector('img.rendered')?.getAttribute('data-rendered') ?? '',
        ),
      );
      t.true(
        (await imageDifference(boneShot, await image.screenshot())) > 1,
        'the drag changes the pixels',
      );
      t.regex((await page.textContent('.window-text')) ?? '', /level 963, width 2644/);

      // The second series: three instances, scrolled with the arrow key.
      await page.click(`button[data-series="${fixture.pattern.SeriesInstanceUIDs[1]}"]`);
      await page.waitForFunction(
        (s) =>
          document
            .querySelector('img.rendered')
            ?.getAttribute('data-rendered')
            ?.includes(`/series/${s}/`),
        fixture.pattern.SeriesInstanceUIDs[1],
      );
      const instanceOne = await rendered();
      await page.focus('.image-frame');
      await page.keyboard.press('ArrowDown');
      await page.waitForFunction(
        (p) => document.querySelector('img.rendered')?.getAttribute('data-rendered') !== p,
        instanceOne,
      );
      t.not((await rendered())?.split('/instances/')[1], instanceOne?.split('/instances/')[1]);
      t.is(await page.textContent('.position'), 'Image 2 of 3');
      const shot = await saveScreenshot(page, fixture.screenshots, 'viewer');
      t.true(shot.stdev > 20);
      t.deepEqual(await accessibilityProblems(page), []);
      t.deepEqual(pageProblems.get(page), [], 'no CSP violation, no page error');
      await page.context().close();
    },
  );

  test.serial(
    'phone width: the studies list and the viewer fit without sideways scrolling',
    async (t) => {
      const page = await signedIn({ width: 390, height: 844 });
      t.true(await page.evaluate(() => document.documentElement.scrollWidth <= 390));
      await saveScreenshot(page, fixture.screenshots, 'phone-studies');
      await page.click(`.study-card[data-study="${fixture.ct.StudyInstanceUID}"] a`);
      await page.waitForSelector('img.rendered[data-rendered]');
      t.true(await page.evaluate(() => document.documentElement.scrollWidth <= 390));
      const shot = await saveScreenshot(page, fixture.screenshots, 'phone-viewer');
      t.is(shot.width, 390);
      t.true(shot.stdev > 20);
      t.deepEqual(await accessibilityProblems(page), []);
      t.deepEqual(pageProblems.get(page), [], 'no CSP violation, no page error');
      await page.context().close();
    },
  );
}
