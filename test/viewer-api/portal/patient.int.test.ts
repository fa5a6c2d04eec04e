/**
 * The portal's patient pages in real Chromium against a real Lightbox with the grants API: a patient
 * signed in by link sees exactly their studies; a share link created in the Sharing page (with a PIN)
 * opens in a fresh browser context, asks for the PIN and shows only the shared study, and stops
 * working once revoked in the page; a grant to a doctor chosen through /api/doctors shows the study
 * to that doctor until revoked; the access log names the doctor; My data exports a record (progress,
 * then a ZIP with DICOMDIR) and erases one after a confirmation step, showing the receipt.
 * Screenshots are saved and checked.
 */
import test from 'ava';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { readFile, rm } from 'node:fs/promises';
import { pydicomManifest } from '../../helpers/samples.js';
import { requireService, requireTool } from '../../helpers/tools.js';
import {
  accessibilityProblems,
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
  let patientToken: string;
  let doctorToken: string;
  const url = (p: string) => `${fixture.lightbox.viewerApi.url}${p}`;
  const problems = new WeakMap<Page, string[]>();

  test.before(async () => {
    [fixture, browser] = await Promise.all([startPortalFixture(), launchChromium()]);
    const { accounts, tokens } = fixture.lightbox.services.grants;
    const patient = await accounts.create({ kind: 'patient', displayName: 'Pat Portal' });
    await accounts.linkPatientRecord(patient.accountId, {
      IssuerOfPatientID: '',
      PatientID: 'PORTAL-P1',
    });
    await accounts.linkPatientRecord(patient.accountId, {
      IssuerOfPatientID: '',
      PatientID: '1CT1',
    });
    const doctor = await accounts.create({ kind: 'doctor', displayName: 'Ada Lovelace' });
    await accounts.create({ kind: 'doctor', displayName: 'Adam Smith' });
    patientToken = tokenOf(await tokens.sign({ sub: patient.accountId, kind: 'patient' }));
    doctorToken = tokenOf(await tokens.sign({ sub: doctor.accountId, kind: 'doctor' }));
  });
  test.after.always(async () => {
    await browser?.close();
    await fixture?.lightbox.stop();
    if (!process.env.PORTAL_SCREENSHOTS && fixture)
      await rm(fixture.screenshots, { recursive: true, force: true });
  });

  function tokenOf(signed: unknown): string {
    return typeof signed === 'string' ? signed : (signed as { token: string }).token;
  }

  async function open(context: BrowserContext, path: string): Promise<Page> {
    const page = await context.newPage();
    problems.set(page, watchPage(page));
    await page.goto(url(path));
    return page;
  }

  async function signedIn(token: string, hash = '#/studies'): Promise<Page> {
    const page = await open(
      await browser.newContext({ viewport: { width: 1280, height: 900 } }),
      `/portal/#token=${token}`,
    );
    await page.waitForSelector('main h1');
    if (hash !== '#/studies') await page.evaluate((h) => (location.hash = h), hash);
    return page;
  }

  async function studiesShown(page: Page): Promise<string[]> {
    await page.waitForFunction(
      () => document.querySelector('main h1')?.textContent === 'My studies',
    );
    await page.waitForSelector('.study-card, .notice');
    return (
      await page.$$eval('.study-card', (cards) =>
        cards.map((c) => (c as HTMLElement).dataset.study ?? ''),
      )
    ).sort();
  }

  async function done(t: { deepEqual: (a: unknown, b: unknown, m?: string) => void }, page: Page) {
    t.deepEqual(await accessibilityProblems(page), []);
    t.deepEqual(problems.get(page), [], 'no CSP violation, no page error');
    await page.context().close();
  }

  test.serial(
    'a patient signed in by link sees exactly the studies of their records',
    async (t) => {
      const page = await signedIn(patientToken);
      t.deepEqual(
        await studiesShown(page),
        [fixture.ct.StudyInstanceUID, fixture.pattern.StudyInstanceUID].sort(),
      );
      await page.waitForFunction(
        () => document.getElementById('account-name')?.textContent === 'Pat Portal',
      );
      await done(t, page);
    },
  );

  test.serial(
    'a share link with a PIN, created in the page, opens elsewhere on that study only, until revoked',
    async (t) => {
      const page = await signedIn(patientToken, '#/shares');
      await page.waitForSelector('#link-scope option', { state: 'attached' });
      const option = await page.$eval(
        '#link-scope',
        (select, name) => {
          const o = [...(select as HTMLSelectElement).options].find((x) =>
            x.textContent?.includes(name),
          );
          return o?.value;
        },
        fixture.pattern.StudyDescription,
      );
      t.truthy(option);
      await page.selectOption('#link-scope', option!);
      await page.fill('#link-pin', '2468');
      await page.click('form[aria-labelledby="link-form-title"] button[type=submit]');
      const link = await (await page.waitForSelector('#created-link')).inputValue();
      t.regex(link, new RegExp(`^${url('/portal/share/')}[A-Za-z0-9_-]{16,}$`));
      await page.waitForSelector('tr[data-share-link]');
      const shot = await saveScreenshot(page, fixture.screenshots, 'shares');
      t.true(shot.stdev > 20);

      // The link, in a browser that never signed in: PIN first (a wrong one is refused), then the study.
      const share = await open(
        await browser.newContext({ viewport: { width: 1024, height: 800 } }),
        new URL(link).pathname,
      );
      await share.waitForSelector('#pin');
      t.is(await share.evaluate(() => sessionStorage.length + localStorage.length), 0);
      await saveScreenshot(share, fixture.screenshots, 'share-pin');
      await share.fill('#pin', '1111');
      await share.click('button[type=submit]');
      await share.waitForFunction(() =>
        /PIN/.test(document.getElementById('pin-feedback')?.textContent ?? ''),
      );
      await share.fill('#pin', '2468');
      await share.click('button[type=submit]');
      await share.waitForSelector('img.rendered[data-rendered]');
      t.is(await share.textContent('main h1'), fixture.pattern.StudyDescription);
      t.regex(
        (await share.getAttribute('img.rendered', 'data-rendered')) ?? '',
        new RegExp(`^/studies/${fixture.pattern.StudyInstanceUID}/`),
      );
      t.is(await share.$$eval('.series-button', (b) => b.length), 2);
      // Only that study: through the link, the patient's other study is 404 (as the page would ask).
      const token = new URL(link).pathname.split('/').pop()!;
      const root = url(`/share/${token}/dicom-web`);
      t.is((await fetch(`${root}/studies`)).status, 401, 'no PIN, no access');
      const unlocked = await fetch(url(`/share/${token}/unlock`), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ pin: '2468' }),
      });
      const { accessToken } = (await unlocked.json()) as { accessToken: string };
      const headers = { Authorization: `Bearer ${accessToken}` };
      const studies = (await (await fetch(`${root}/studies`, { headers })).json()) as Array<
        Record<string, { Value: string[] }>
      >;
      t.deepEqual(
        studies.map((s) => s['0020000D'].Value[0]),
        [fixture.pattern.StudyInstanceUID],
      );
      const other = `${root}/studies/${fixture.ct.StudyInstanceUID}/series`;
      t.is((await fetch(other, { headers })).status, 404);
      const viewerShot = await saveScreenshot(share, fixture.screenshots, 'share-viewer');
      t.true(viewerShot.stdev > 20);

      // Revoked in the patient's page: the link stops working at once.
      await page.click('tr[data-share-link] button.danger');
      await page.waitForFunction(() =>
        document.querySelector('tr[data-share-link]')?.classList.contains('state-revoked'),
      );
      await share.reload();
      await share.waitForSelector('.notice-error');
      t.regex((await share.textContent('.notice-error')) ?? '', /not valid/);
      await done(t, share);
      await done(t, page);
    },
  );

  test.serial(
    'a grant to a doctor found by name shows the study to that doctor until revoked; the access log names them',
    async (t) => {
      const page = await signedIn(patientToken, '#/shares');
      await page.waitForSelector('#doctor-search');
      await page.fill('#doctor-search', 'Ada');
      await page.press('#doctor-search', 'Enter');
      await page.waitForFunction(() =>
        /2 doctors found/.test(document.getElementById('doctor-hint')?.textContent ?? ''),
      );
      const ada = await page.$eval(
        '#doctor',
        (s) => [...(s as HTMLSelectElement).options].find((o) => o.text === 'Ada Lovelace')?.value,
      );
      await page.selectOption('#doctor', ada!);
      const option = await page.$eval(
        '#grant-scope',
        (select, name) => {
          const o = [...(select as HTMLSelectElement).options].find((x) =>
            x.textContent?.includes(name),
          );
          return o?.value;
        },
        'e+1',
      );
      await page.selectOption('#grant-scope', option!);
      await page.click('form[aria-labelledby="grant-form-title"] button[type=submit]');
      await page.waitForSelector('tr[data-grant]');
      t.regex((await page.textContent('tr[data-grant]')) ?? '', /Ada Lovelace.*e\+1.*View only/s);

      const doctor = await signedIn(doctorToken);
      t.deepEqual(await studiesShown(doctor), [fixture.ct.StudyInstanceUID]);
      await doctor.click('.study-card a');
      await doctor.waitForSelector('img.rendered[data-rendered]');

      const log = await signedIn(patientToken, '#/access-log');
      await log.waitForSelector('table.access-log tbody tr');
      t.regex((await log.textContent('table.access-log')) ?? '', /Ada Lovelace/);
      const shot = await saveScreenshot(log, fixture.screenshots, 'access-log');
      t.true(shot.stdev > 10);

      await page.click('tr[data-grant] button.danger');
      await page.waitForFunction(() =>
        document.querySelector('tr[data-grant]')?.classList.contains('state-revoked'),
      );
      await doctor.evaluate(() => (location.hash = '#/studies'));
      t.deepEqual(await studiesShown(doctor), []);
      for (const p of [log, doctor, page]) await done(t, p);
    },
  );

  test.serial(
    'my data: export with progress and download, erasure with confirmation and receipt',
    async (t) => {
      const page = await signedIn(patientToken, '#/data-rights');
      await page.waitForSelector('section[data-patient-key]');
      const records = await page.$$eval('section[data-patient-key] h2', (h) =>
        h.map((e) => e.textContent),
      );
      t.is(records.length, 2);
      const card = page.locator('section[data-patient-key]', { hasText: 'PORTAL-P1' });
      await card.getByRole('button', { name: 'Prepare a download of this imaging' }).click();
      const button = card.locator('button[data-export]');
      await button.waitFor();
      const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
      const zip = await readFile((await download.path())!);
      t.is(zip.subarray(0, 4).toString('latin1'), 'PK\x03\x04');
      t.true(zip.includes(Buffer.from('DICOMDIR')), 'the ZIP has a DICOMDIR');
      t.regex((await card.textContent()) ?? '', /4 of 4 files/);

      await card.getByRole('button', { name: 'Request erasure…' }).click();
      const erase = card.getByRole('button', { name: 'Erase permanently' });
      t.true(await erase.isDisabled(), 'nothing is erased before the confirmation');
      await card.getByLabel('I understand that this cannot be undone').check();
      await saveScreenshot(page, fixture.screenshots, 'erasure-confirm');
      await erase.click();
      const receipt = card.locator('dl.receipt');
      await receipt.waitFor();
      t.regex((await receipt.textContent()) ?? '', /[0-9a-f]{64}/);
      const shot = await saveScreenshot(page, fixture.screenshots, 'erasure-receipt');
      t.true(shot.stdev > 10);
      await page.evaluate(() => (location.hash = '#/studies'));
      t.deepEqual(await studiesShown(page), [fixture.ct.StudyInstanceUID]);
      await done(t, page);
    },
  );
}
