/**
 * What the engine hands back: sizes under the viewport rule of PS3.18 §8.3.5.1.3, source regions and
 * flips, WADO-URI rows/columns/region, JPEG quality, thumbnails (middle frame), and the errors
 * (400 no pixel data, 404 frame, 413 too large, 500 not DICOM).
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import {
  isRenderError,
  parseWadoUriQuery,
  renderFrame,
  renderThumbnail,
  type RenderOptions,
} from '../../../core/imaging/index.js';
import { decodeImage, file, requirePydicom, type Decoded } from './reference.js';

const read = (name: string) => readFile(file(name));

async function render(name: string, options: Partial<RenderOptions> = {}, frameNumber = 1) {
  const rendered = await renderFrame(
    { bytes: await read(name), frameNumber },
    { accept: 'image/png', ...options },
  );
  return decodeImage(rendered.body);
}

/** The region of `image` (what sharp's extract would give), optionally mirrored. */
function crop(
  image: Decoded,
  left: number,
  top: number,
  width: number,
  height: number,
  flop = false,
) {
  const out = Buffer.alloc(width * height * image.channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sx = left + (flop ? width - 1 - x : x);
      const from = ((top + y) * image.width + sx) * image.channels;
      image.data.copy(out, (y * width + x) * image.channels, from, from + image.channels);
    }
  }
  return out;
}

if (await requirePydicom(test)) {
  test('viewport: as large as possible within vw×vh, aspect ratio kept (256×1024 source)', async (t) => {
    const size = async (width: number, height: number) => {
      const image = await render('JPEG2000.dcm', { viewport: { width, height } });
      return [image.width, image.height];
    };
    t.deepEqual(await size(64, 64), [16, 64]);
    t.deepEqual(await size(1024, 1024), [256, 1024]);
    t.deepEqual(await size(100, 1000), [100, 400]);
    t.deepEqual(await size(2000, 512), [128, 512]);
    t.deepEqual((await render('JPEG2000.dcm')).width, 256, 'no viewport: the source pixel matrix');
  });

  test('viewport source region sx,sy,sw,sh crops; negative sw/sh flip', async (t) => {
    const full = await render('CT_small.dcm');
    const region = await render('CT_small.dcm', {
      viewport: { width: 64, height: 48, sx: 32, sy: 16, sw: 64, sh: 48 },
    });
    t.deepEqual([region.width, region.height], [64, 48]);
    t.true(region.data.equals(crop(full, 32, 16, 64, 48)));
    const mirrored = await render('CT_small.dcm', {
      viewport: { width: 128, height: 128, sw: -128 },
    });
    t.true(mirrored.data.equals(crop(full, 0, 0, 128, 128, true)));
    const upsideDown = await render('CT_small.dcm', {
      viewport: { width: 128, height: 128, sh: -128 },
    });
    t.deepEqual(upsideDown.data.subarray(0, 128), full.data.subarray(127 * 128, 128 * 128));
    const enlarged = await render('CT_small.dcm', {
      viewport: { width: 256, height: 256, sw: 64, sh: 32 },
    });
    t.deepEqual([enlarged.width, enlarged.height], [256, 128]);
    const error = await t.throwsAsync(
      render('CT_small.dcm', { viewport: { width: 64, height: 64, sx: 500 } }),
    );
    t.true(isRenderError(error, 'InvalidRenderParameter'));
  });

  test('WADO-URI rows, columns and region', async (t) => {
    const full = await render('MR_small.dcm');
    const rows = parseWadoUriQuery({ rows: '32', contentType: 'image/png' });
    const half = await render('MR_small.dcm', rows.options);
    t.deepEqual([half.width, half.height], [32, 32]);
    const region = parseWadoUriQuery({ region: '0.25,0.5,0.75,1', contentType: 'image/png' });
    const quarter = await render('MR_small.dcm', region.options);
    t.deepEqual([quarter.width, quarter.height], [32, 32]);
    t.true(quarter.data.equals(crop(full, 16, 32, 32, 32)));
  });

  test('JPEG: baseline, grayscale stays one channel, quality changes the size', async (t) => {
    const bytes = await read('CT_small.dcm');
    const jpeg = (quality: number) =>
      renderFrame({ bytes, frameNumber: 1 }, { accept: 'image/jpeg', quality });
    const [low, high] = await Promise.all([jpeg(5), jpeg(95)]);
    t.is(low.contentType, 'image/jpeg');
    t.true(
      low.body.length * 2 < high.body.length,
      `${low.body.length} vs ${high.body.length} bytes`,
    );
    const meta = await sharp(high.body).metadata();
    t.deepEqual([meta.format, meta.width, meta.height, meta.channels], ['jpeg', 128, 128, 1]);
    t.false(meta.isProgressive);
    const color = await renderFrame(
      { bytes: await read('SC_rgb_rle.dcm'), frameNumber: 1 },
      { accept: 'image/jpeg' },
    );
    t.is((await sharp(color.body).metadata()).channels, 3);
  });

  test('thumbnails: 128 on the longest side, the middle frame', async (t) => {
    const thumb = await renderThumbnail({ bytes: await read('JPEG2000.dcm') });
    t.is(thumb.contentType, 'image/jpeg');
    const meta = await sharp(thumb.body).metadata();
    t.deepEqual([meta.width, meta.height], [32, 128]);
    for (const [name, middle] of [
      ['rtdose.dcm', 8],
      ['SC_rgb_rle_2frame.dcm', 1],
    ] as const) {
      const bytes = await read(name);
      const viewport = { width: 128, height: 128 };
      const a = await renderThumbnail({ bytes }, { accept: 'image/png' });
      const b = await renderFrame(
        { bytes, frameNumber: middle },
        { accept: 'image/png', viewport },
      );
      t.true(a.body.equals(b.body), `${name}: the thumbnail is frame ${middle}`);
    }
    const sized = await renderThumbnail({ bytes: await read('CT_small.dcm') }, { size: 48 });
    t.is((await sharp(sized.body).metadata()).width, 48);
  });

  test('no pixel data: 400; frame outside the instance: 404', async (t) => {
    for (const name of ['rtplan.dcm', 'test-SR.dcm']) {
      const error = await t.throwsAsync(render(name));
      t.true(isRenderError(error, 'NoPixelData'), name);
      t.is((error as { status?: number }).status, 400);
    }
    for (const [name, frame] of [
      ['MR_small.dcm', 0],
      ['MR_small.dcm', 2],
      ['SC_rgb_rle_2frame.dcm', 3],
    ] as const) {
      const error = await t.throwsAsync(render(name, {}, frame));
      t.true(isRenderError(error, 'FrameNotFound'), `${name} frame ${frame}`);
      t.is((error as { status?: number }).status, 404);
    }
  });

  test('objects above the limit: 413 before decoding; not DICOM: 500', async (t) => {
    const bytes = await read('MR_small.dcm');
    const error = await t.throwsAsync(
      renderFrame({ bytes, frameNumber: 1 }, { accept: 'image/jpeg' }, { maxObjectBytes: 1000 }),
    );
    t.true(isRenderError(error, 'TooLargeToRender'));
    t.is((error as { status?: number }).status, 413);
    const garbage = Buffer.from('this is not a DICOM file'.repeat(20));
    const bad = await t.throwsAsync(
      renderFrame({ bytes: garbage, frameNumber: 1 }, { accept: 'image/jpeg' }),
    );
    t.true(isRenderError(bad, 'RenderFailed'), String(bad));
    t.is((bad as { status?: number }).status, 500);
  });

  test('the input bytes are left unchanged', async (t) => {
    for (const name of [
      'MR_small_bigendian.dcm',
      'ExplVR_BigEnd.dcm',
      'SC_rgb_rle_2frame.dcm',
      'CT_small.dcm',
    ]) {
      const bytes = await read(name);
      const before = createHash('sha256').update(bytes).digest('hex');
      await renderFrame({ bytes, frameNumber: 1 }, { accept: 'image/png' });
      t.is(createHash('sha256').update(bytes).digest('hex'), before, name);
    }
  });
}
