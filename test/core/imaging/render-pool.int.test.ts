/**
 * The rendering pool: images made on its threads are the bytes the engine makes in-thread, the
 * engine's errors cross the thread boundary with their PS3.18 status, and admission is bounded
 * (threads + maxQueued jobs; the next one is refused with 'Busy' before its object is read).
 */
import test from 'ava';
import { isLightboxError } from '../../../core/errors.js';
import { isRenderError, renderFrame, renderThumbnail } from '../../../core/imaging/index.js';
import { RenderPool } from '../../../core/imaging/render-pool.js';
import { encodeInstance, makeUID } from '../../helpers/synthetic.js';

const instance = () =>
  encodeInstance({
    StudyInstanceUID: makeUID(),
    SeriesInstanceUID: makeUID(),
    Rows: 32,
    Columns: 24,
  });

test('a frame and a thumbnail rendered on a thread equal the in-thread rendering', async (t) => {
  const pool = new RenderPool({ threads: 2, maxQueued: 4 });
  t.teardown(() => pool.close());
  const bytes = instance();
  const options = { accept: 'image/png' as const, window: { center: 2048, width: 4096 } };
  const [threaded, thumbnail] = await Promise.all([
    pool.render({ kind: 'frame', frameNumber: 1, options, load: async () => Buffer.from(bytes) }),
    pool.render({ kind: 'thumbnail', options: {}, load: async () => Buffer.from(bytes) }),
  ]);
  const local = await renderFrame({ bytes, frameNumber: 1 }, options);
  t.is(threaded.contentType, 'image/png');
  t.true(threaded.body.equals(local.body));
  t.is(thumbnail.contentType, 'image/jpeg');
  t.true(thumbnail.body.equals((await renderThumbnail({ bytes })).body));
  t.is(pool.inFlight, 0);
});

test('engine errors keep their code and status across the thread', async (t) => {
  const pool = new RenderPool({ threads: 1, maxQueued: 0 });
  t.teardown(() => pool.close());
  const frame = (load: () => Promise<Buffer>, frameNumber = 1) =>
    pool.render({ kind: 'frame', frameNumber, options: { accept: 'image/jpeg' }, load });
  const missing = await t.throwsAsync(frame(async () => instance(), 2));
  t.true(isRenderError(missing, 'FrameNotFound'));
  t.is((missing as { status?: number }).status, 404);
  const garbage = await t.throwsAsync(frame(async () => Buffer.from('not DICOM at all')));
  t.true(isRenderError(garbage, 'RenderFailed'));
  // The thread survived both: the next job renders.
  t.is((await frame(async () => instance())).contentType, 'image/jpeg');
});

test('admission is bounded: beyond threads + maxQueued, Busy at once and nothing is read', async (t) => {
  const pool = new RenderPool({ threads: 1, maxQueued: 1 });
  t.teardown(() => pool.close());
  const bytes = instance();
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const slow = async () => {
    await held;
    return Buffer.from(bytes);
  };
  const options = { accept: 'image/png' as const };
  const first = pool.render({ kind: 'frame', frameNumber: 1, options, load: slow });
  const second = pool.render({ kind: 'frame', frameNumber: 1, options, load: slow });
  let loaded = false;
  const refused = await t.throwsAsync(
    pool.render({
      kind: 'frame',
      frameNumber: 1,
      options,
      load: async () => {
        loaded = true;
        return Buffer.from(bytes);
      },
    }),
  );
  t.true(isLightboxError(refused, 'Busy'));
  t.false(loaded);
  t.is(pool.inFlight, 2);
  release();
  const [a, b] = await Promise.all([first, second]);
  t.true(a.body.equals(b.body));
  // Room again once they are done.
  t.is(
    (await pool.render({ kind: 'frame', frameNumber: 1, options, load: slow })).contentType,
    'image/png',
  );
});
