/**
 * PS3.18 §8.3.5.1 query parameters, §8.7.8.1 media type selection and the WADO-URI parameters.
 */
import test from 'ava';
import {
  isRenderError,
  parseRenderedQuery,
  parseWadoUriQuery,
  selectRenderedMediaType,
  type RenderErrorCode,
} from '../../../core/imaging/index.js';

function fails(
  t: import('ava').ExecutionContext,
  fn: () => unknown,
  code: RenderErrorCode,
  status: number,
) {
  const error = t.throws(fn);
  t.true(isRenderError(error, code), `${String(error)} is not ${code}`);
  t.is((error as { status?: number }).status, status);
}

test('window=center,width,function in the three spellings', (t) => {
  t.deepEqual(parseRenderedQuery({ window: '40,400,linear' }, 'image/jpeg'), {
    accept: 'image/jpeg',
    window: { center: 40, width: 400, function: 'LINEAR' },
  });
  t.deepEqual(parseRenderedQuery({ window: '-600.5,1500,linear-exact' }, '*/*').window, {
    center: -600.5,
    width: 1500,
    function: 'LINEAR_EXACT',
  });
  t.is(parseRenderedQuery({ window: '0,0.5,SIGMOID' }, '*/*').window?.function, 'SIGMOID');
});

test('window: every part is required and valid (400)', (t) => {
  for (const window of [
    '40,400',
    '40,400,',
    ',400,linear',
    '40,abc,linear',
    '40,400,gamma',
    '40,0.5,linear',
    '40,0,sigmoid',
    '40,400,linear,1',
  ]) {
    fails(t, () => parseRenderedQuery({ window }, '*/*'), 'InvalidRenderParameter', 400);
  }
});

test('viewport=vw,vh[,sx,sy,sw,sh] with elided values', (t) => {
  t.deepEqual(parseRenderedQuery({ viewport: '512,256' }, '*/*').viewport, {
    width: 512,
    height: 256,
  });
  t.deepEqual(parseRenderedQuery({ viewport: '512,512,,,256,256' }, '*/*').viewport, {
    width: 512,
    height: 512,
    sw: 256,
    sh: 256,
  });
  t.deepEqual(parseRenderedQuery({ viewport: '100,100,10.5,20,-50' }, '*/*').viewport, {
    width: 100,
    height: 100,
    sx: 10.5,
    sy: 20,
    sw: -50,
  });
  for (const viewport of [
    '512',
    '0,512',
    '512,-1',
    '1.5,2',
    '10,10,0,0,0,5',
    '1,2,3,4,5,6,7',
    'a,b',
  ]) {
    fails(t, () => parseRenderedQuery({ viewport }, '*/*'), 'InvalidRenderParameter', 400);
  }
  fails(
    t,
    () => parseRenderedQuery({ viewport: '64,64,0,0,32,32' }, '*/*', 'thumbnail'),
    'InvalidRenderParameter',
    400,
  );
  t.deepEqual(parseRenderedQuery({ viewport: '64,48', window: 'ignored' }, '*/*', 'thumbnail'), {
    accept: 'image/jpeg',
    viewport: { width: 64, height: 48 },
  });
});

test('quality=1..100, and repeated or empty parameters are 400', (t) => {
  t.is(parseRenderedQuery({ quality: '75' }, '*/*').quality, 75);
  for (const quality of ['0', '101', '7.5', '', 'high']) {
    fails(t, () => parseRenderedQuery({ quality }, '*/*'), 'InvalidRenderParameter', 400);
  }
  fails(
    t,
    () => parseRenderedQuery({ quality: ['10', '20'] }, '*/*'),
    'InvalidRenderParameter',
    400,
  );
  t.deepEqual(
    parseRenderedQuery({ annotation: 'patient', iccprofile: 'srgb', charset: 'utf-8' }, '*/*'),
    {
      accept: 'image/jpeg',
    },
  );
});

test('Accept header: jpeg, png, wildcards and weights (PS3.18 §8.7.8.1)', (t) => {
  t.is(selectRenderedMediaType(undefined, 'image/png'), 'image/png');
  t.is(selectRenderedMediaType(undefined, 'image/jpeg'), 'image/jpeg');
  t.is(selectRenderedMediaType(undefined, '*/*'), 'image/jpeg');
  t.is(selectRenderedMediaType(undefined, 'image/*'), 'image/jpeg');
  t.is(selectRenderedMediaType(undefined, 'image/jpeg;q=0.5, image/png'), 'image/png');
  t.is(selectRenderedMediaType(undefined, 'image/webp, image/png;q=0.8, */*;q=0.1'), 'image/png');
  t.is(selectRenderedMediaType(undefined, 'image/avif,image/webp,*/*;q=0.8'), 'image/jpeg');
  t.is(selectRenderedMediaType(undefined, 'IMAGE/PNG'), 'image/png');
  t.is(selectRenderedMediaType(undefined, undefined), 'image/jpeg', 'absent: as */*');
  for (const accept of [
    'image/gif',
    'text/html',
    'image/png;q=0, image/jpeg;q=0',
    'application/dicom',
  ]) {
    fails(t, () => selectRenderedMediaType(undefined, accept), 'NotAcceptable', 406);
  }
});

test('accept query parameter first, then the header; DICOM with rendered types is 400', (t) => {
  t.is(parseRenderedQuery({ accept: 'image/png' }, 'image/*').accept, 'image/png');
  t.is(parseRenderedQuery({ accept: ['image/gif', 'image/png'] }, 'image/*').accept, 'image/png');
  t.is(parseRenderedQuery({ accept: 'image/gif' }, 'image/jpeg').accept, 'image/jpeg');
  t.is(
    parseRenderedQuery({ accept: '*/*' }, 'image/png').accept,
    'image/png',
    'no wildcard in the query',
  );
  fails(t, () => parseRenderedQuery({ accept: 'image/gif' }, 'image/gif'), 'NotAcceptable', 406);
  fails(
    t,
    () => selectRenderedMediaType('application/dicom', 'image/jpeg'),
    'InvalidRenderParameter',
    400,
  );
  fails(
    t,
    () =>
      selectRenderedMediaType(undefined, 'multipart/related; type="application/dicom", image/png'),
    'InvalidRenderParameter',
    400,
  );
});

test('WADO-URI: contentType default, rows/columns, window, region, imageQuality, frameNumber', (t) => {
  t.deepEqual(parseWadoUriQuery({}), { options: { accept: 'image/jpeg' }, frameNumber: 1 });
  t.deepEqual(
    parseWadoUriQuery({
      contentType: 'image/png',
      rows: '256',
      windowCenter: '40',
      windowWidth: '400',
      imageQuality: '80',
      frameNumber: '3',
      region: '0,0.25,0.5,1',
    }),
    {
      options: {
        accept: 'image/png',
        viewport: { height: 256 },
        window: { center: 40, width: 400, function: 'LINEAR' },
        quality: 80,
        region: { xmin: 0, ymin: 0.25, xmax: 0.5, ymax: 1 },
      },
      frameNumber: 3,
    },
  );
  t.deepEqual(parseWadoUriQuery({ columns: '128' }).options.viewport, { width: 128 });
  t.is(
    parseWadoUriQuery({ contentType: 'image/gif;q=0.9, image/png;q=0.5' }).options.accept,
    'image/png',
  );
  fails(t, () => parseWadoUriQuery({ contentType: 'image/gif' }), 'NotAcceptable', 406);
  for (const query of [
    { windowCenter: '40' },
    { windowWidth: '400' },
    { windowCenter: '40', windowWidth: '0' },
    { rows: '0' },
    { region: '0,0,1' },
    { region: '0.5,0,0.5,1' },
    { region: '0,0,1.5,1' },
    { imageQuality: '0' },
    { frameNumber: '0' },
  ]) {
    fails(t, () => parseWadoUriQuery(query), 'InvalidRenderParameter', 400);
  }
});
