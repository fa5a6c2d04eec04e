/**
 * The metadata warmer's schedule: a study is built once, after it has been quiet; studies in the
 * order they went quiet; a study with fewer than `minInstances` is left to its first request; at
 * most `maxPending` wait; a failed build is logged and the next goes on; nothing is built after
 * close.
 */
import test from 'ava';
import type { Logger } from '../../../core/log.js';
import { MetadataWarmer } from '../../../viewer-api/dicomweb/metadata-warmer.js';

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
  const warmer = new MetadataWarmer(r.warm, r.log, {
    quietMs: 30,
    minInstances: 1,
    maxPending: 10,
  });
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
  const warmer = new MetadataWarmer(r.warm, r.log, { quietMs: 5, minInstances: 1, maxPending: 2 });
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
  const warmer = new MetadataWarmer(r.warm, r.log, { quietMs: 5, minInstances: 1, maxPending: 10 });
  warmer.studyStored('3.1');
  await warmer.close();
  warmer.studyStored('3.2');
  await new Promise((resolve) => setTimeout(resolve, 30));
  t.deepEqual(r.built, []);
});

test('a study with fewer instances than minInstances is not built', async (t) => {
  const r = recorder();
  const warmer = new MetadataWarmer(r.warm, r.log, { quietMs: 5, minInstances: 3, maxPending: 10 });
  for (let i = 0; i < 3; i++) warmer.studyStored('4.1');
  warmer.studyStored('4.2');
  warmer.studyStored('4.2');
  await warmer.idle();
  t.deepEqual(r.built, ['4.1']);
  await warmer.close();
});
