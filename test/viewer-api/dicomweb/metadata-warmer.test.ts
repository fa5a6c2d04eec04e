/**
 * The metadata warmer's schedule: a study is built once, after it has been quiet; studies in the
 * order they went quiet, and not while the archive is receiving (up to maxDelayMs); a study with
 * fewer than `minInstances` is left to its first request; at most `maxPending` wait; a failed build
 * is logged and the next goes on; nothing is built after close.
 */
import test from 'ava';
import type { Logger } from '../../../core/log.js';
import {
  MetadataWarmer,
  type MetadataWarmerOptions,
} from '../../../viewer-api/dicomweb/metadata-warmer.js';

/** Every study counts (minInstances 1), no wait for a quiet archive unless a test asks. */
const options = (o: Partial<MetadataWarmerOptions>): MetadataWarmerOptions => ({
  quietMs: 5,
  maxDelayMs: 10_000,
  minInstances: 1,
  maxPending: 10,
  ...o,
});

function recorder(fail: string[] = []) {
  const built: string[] = [];
  const warnings: string[] = [];
  const log = {
    warn: (_: unknown, message: string) => warnings.push(message),
  } as unknown as Logger;
  const warm = async (study: string) => {
    built.push(study);
    if (fail.includes(study)) throw new Error('index unavailable');
  };
  return { built, warnings, log, warm };
}

test('a study stored again while quiet-waiting is built once, after its last instance', async (t) => {
  const r = recorder();
  const warmer = new MetadataWarmer(r.warm, r.log, options({ quietMs: 30 }));
  warmer.studyStored('1.1');
  warmer.studyStored('1.2');
  warmer.studyStored('1.1'); // still arriving: due after 1.2 now
  t.deepEqual(r.built, [], 'nothing before the study is quiet');
  await warmer.idle();
  t.deepEqual(r.built, ['1.2', '1.1']);
  warmer.studyStored('1.2'); // a later instance: built again (its response changed)
  await warmer.idle();
  t.deepEqual(r.built, ['1.2', '1.1', '1.2']);
  await warmer.close();
});

test('at most maxPending studies wait; a failed build is logged and the next one goes on', async (t) => {
  const r = recorder(['2.1']);
  const warmer = new MetadataWarmer(r.warm, r.log, options({ maxPending: 2 }));
  warmer.studyStored('2.1');
  warmer.studyStored('2.2');
  warmer.studyStored('2.3'); // a third waiting study: not warmed
  warmer.studyStored('2.2'); // already waiting: still counted once
  await warmer.idle();
  t.deepEqual(r.built, ['2.1', '2.2']);
  t.is(r.warnings.length, 1);
  await warmer.close();
});

test('nothing is built after close', async (t) => {
  const r = recorder();
  const warmer = new MetadataWarmer(r.warm, r.log, options({}));
  warmer.studyStored('3.1');
  await warmer.close();
  warmer.studyStored('3.2');
  await new Promise((resolve) => setTimeout(resolve, 30));
  t.deepEqual(r.built, []);
});

test('a study with fewer instances than minInstances is not built', async (t) => {
  const r = recorder();
  const warmer = new MetadataWarmer(r.warm, r.log, options({ minInstances: 3 }));
  for (let i = 0; i < 3; i++) warmer.studyStored('4.1');
  warmer.studyStored('4.2');
  warmer.studyStored('4.2');
  await warmer.idle();
  t.deepEqual(r.built, ['4.1']);
  await warmer.close();
});

test('a quiet study waits while other instances keep arriving, at most maxDelayMs', async (t) => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const r = recorder();
  const busy = new MetadataWarmer(r.warm, r.log, options({ quietMs: 200 }));
  busy.studyStored('5.1');
  for (let i = 0; i < 20; i++) {
    busy.studyStored('5.2'); // another study streaming in, an instance every 20 ms
    await sleep(20);
  }
  t.deepEqual(r.built, [], '5.1 is due, but the archive is receiving');
  await busy.idle();
  t.deepEqual(r.built, ['5.1', '5.2']);
  await busy.close();

  const late = recorder();
  const impatient = new MetadataWarmer(
    late.warm,
    late.log,
    options({ quietMs: 200, maxDelayMs: 0 }),
  );
  impatient.studyStored('6.1');
  for (let i = 0; i < 20 && late.built.length === 0; i++) {
    impatient.studyStored('6.2');
    await sleep(20);
  }
  t.deepEqual(late.built, ['6.1'], 'built while 6.2 still arrives: it waited long enough');
  await impatient.close();
});
