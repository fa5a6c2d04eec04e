/**
 * What the portal's browser tests share: a Lightbox with real studies in it (a pydicom CT sent by
 * storescu, a synthetic multi-frame study with a drawn pattern sent by STOW-RS, and another
 * patient's MR), headless Debian Chromium driven by playwright-core, and screenshot checks.
 */
import { access, constants, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { storescu } from '../../helpers/dcmtk.js';
import { arrayBufferOf, dicomwebClient, TEST_API_TOKEN } from '../../helpers/dicomweb.js';
import { pydicomManifest, sample } from '../../helpers/samples.js';
import { startTestLightbox, type TestLightbox } from '../../helpers/start-lightbox.js';
import { encodeInstance, makeUID } from '../../helpers/synthetic.js';

export const CHROMIUM = '/usr/bin/chromium';

export async function probeChromium(): Promise<void> {
  await access(CHROMIUM, constants.X_OK);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true });
}

export interface PortalStudy {
  StudyInstanceUID: string;
  SeriesInstanceUIDs: string[];
  StudyDescription: string;
}

export interface PortalFixture {
  lightbox: TestLightbox;
  /** pydicom CT_small.dcm (PatientID 1CT1), one CT image, sent by storescu. */
  ct: PortalStudy;
  /** Synthetic (PatientID PORTAL-P1): a 6-frame series and a 3-instance series, sent by STOW-RS. */
  pattern: PortalStudy;
  /** pydicom MR_small.dcm (PatientID 4MR1): another patient's study. */
  other: PortalStudy;
  /** Where the screenshots go (left for inspection). */
  screenshots: string;
}

const ROWS = 128;
const FRAMES = 6;

/** 12-bit pixels: a left-to-right gradient with a bright disc whose place depends on `k`. */
export function patternPixels(k: number, frames = 1): Buffer {
  const pixels = Buffer.alloc(ROWS * ROWS * 2 * frames);
  for (let f = 0; f < frames; f++) {
    const cx = 24 + (k + f) * 14;
    for (let y = 0; y < ROWS; y++) {
      for (let x = 0; x < ROWS; x++) {
        const inDisc = (x - cx) ** 2 + (y - 64) ** 2 < 18 ** 2;
        pixels.writeUInt16LE(inDisc ? 4000 : x * 24, 2 * (f * ROWS * ROWS + y * ROWS + x));
      }
    }
  }
  return pixels;
}

async function stowPatternStudy(lightbox: TestLightbox): Promise<PortalStudy> {
  const StudyInstanceUID = makeUID();
  const SeriesInstanceUIDs = [makeUID(), makeUID()];
  const common = {
    StudyInstanceUID,
    PatientID: 'PORTAL-P1',
    PatientName: 'Portal^Patient',
    StudyDate: '20260301',
    StudyDescription: 'Knee MR pattern',
    Modality: 'CT',
    Rows: ROWS,
    Columns: ROWS,
  };
  const datasets = [
    encodeInstance(
      {
        ...common,
        SeriesInstanceUID: SeriesInstanceUIDs[0],
        SeriesNumber: 1,
        NumberOfFrames: FRAMES,
      },
      patternPixels(0, FRAMES),
    ),
    ...[1, 2, 3].map((n) =>
      encodeInstance(
        { ...common, SeriesInstanceUID: SeriesInstanceUIDs[1], SeriesNumber: 2, InstanceNumber: n },
        patternPixels(n * 2),
      ),
    ),
  ];
  await dicomwebClient(lightbox.viewerApi.url).storeInstances({
    datasets: datasets.map(arrayBufferOf),
  });
  return { StudyInstanceUID, SeriesInstanceUIDs, StudyDescription: common.StudyDescription };
}

/** Starts Lightbox and fills it; `overrides` go to startTestLightbox. */
export async function startPortalFixture(
  overrides: Record<string, unknown> = {},
): Promise<PortalFixture> {
  const lightbox = await startTestLightbox({
    viewerApi: { apiToken: TEST_API_TOKEN },
    ...overrides,
  });
  const files = await pydicomManifest();
  const sent = await storescu(lightbox.gateway.port, [
    sample(files, 'CT_small.dcm').path,
    sample(files, 'MR_small.dcm').path,
  ]);
  if (sent.code !== 0) throw new Error(`storescu failed: ${sent.stderr}`);
  const pattern = await stowPatternStudy(lightbox);
  await lightbox.settled();
  const screenshots =
    process.env.PORTAL_SCREENSHOTS ?? (await mkdtemp(path.join(os.tmpdir(), 'lightbox-portal-')));
  return {
    lightbox,
    pattern,
    ct: {
      StudyInstanceUID: '1.3.6.1.4.1.5962.1.2.1.20040119072730.12322',
      SeriesInstanceUIDs: ['1.3.6.1.4.1.5962.1.3.1.1.20040119072730.12322'],
      StudyDescription: 'e+1',
    },
    other: {
      StudyInstanceUID: '1.3.6.1.4.1.5962.1.2.4.20040826185059.5457',
      SeriesInstanceUIDs: ['1.3.6.1.4.1.5962.1.3.4.1.20040826185059.5457'],
      StudyDescription: '',
    },
    screenshots,
  };
}

export interface ImageCheck {
  width: number;
  height: number;
  /** Standard deviation of the luminance: near 0 for a blank page. */
  stdev: number;
}

/** Saves a PNG screenshot under the fixture's directory and returns what it shows. */
export async function saveScreenshot(
  page: Page,
  directory: string,
  name: string,
): Promise<ImageCheck> {
  const png = await page.screenshot({ fullPage: true });
  await writeFile(path.join(directory, `${name}.png`), png);
  return checkImage(png);
}

export async function checkImage(png: Buffer): Promise<ImageCheck> {
  const image = sharp(png);
  const { width = 0, height = 0 } = await image.metadata();
  const stats = await image.clone().greyscale().stats();
  return { width, height, stdev: stats.channels[0].stdev };
}

/** Mean absolute difference per channel value of two same-size images (0…255). */
export async function imageDifference(a: Buffer, b: Buffer): Promise<number> {
  const [ra, rb] = await Promise.all(
    [a, b].map((png) => sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true })),
  );
  if (ra.info.width !== rb.info.width || ra.info.height !== rb.info.height) return 255;
  let sum = 0;
  for (let i = 0; i < ra.data.length; i++) sum += Math.abs(ra.data[i] - rb.data[i]);
  return sum / ra.data.length;
}

/**
 * What a page's markup gets wrong for assistive technology, checked in the page: form controls
 * without a label, images without alt, buttons and links without a name, a missing h1 or lang.
 */
export function accessibilityProblems(page: Page): Promise<string[]> {
  // A string, not a function: tsx's transform would add helpers the page does not have.
  return page.evaluate(`(() => {
    const problems = [];
    const named = (e) => e.textContent.trim() !== '' || e.hasAttribute('aria-label') ||
      e.querySelector('img[alt]:not([alt=""])') !== null;
    for (const e of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
      if (e.labels.length === 0 && !e.hasAttribute('aria-label')) problems.push('unlabelled ' + e.tagName + ' #' + e.id);
    }
    for (const e of document.querySelectorAll('img:not([alt])')) problems.push('img without alt ' + e.className);
    for (const e of document.querySelectorAll('button, a[href]')) {
      if (!named(e)) problems.push('unnamed ' + e.tagName + ' ' + e.className);
    }
    if (!document.querySelector('main h1')) problems.push('no h1 in main');
    if (!document.documentElement.lang) problems.push('no lang');
    return problems;
  })()`);
}

/** Collects Content-Security-Policy violations and uncaught errors of a page. */
export function watchPage(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) {
      problems.push(`CSP: ${message.text()}`);
    }
  });
  return problems;
}
