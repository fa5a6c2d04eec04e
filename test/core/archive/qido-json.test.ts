/**
 * QIDO result rows as DICOM JSON: tags in ascending order whether or not metadata attributes are
 * merged in, and RetrieveURL / InstanceAvailability added in order without a sort.
 */
import test from 'ava';
import { rowToDicomJson, withAttributes } from '../../../core/archive/qido-query.js';
import { QIDO_ATTRIBUTES } from '../../../core/archive/qido-attributes.js';

const ascending = (json: object) => {
  const tags = Object.keys(json);
  return tags.every((tag, i) => i === 0 || tags[i - 1] < tag);
};

test('withAttributes merges added tags into an ordered dataset in order, replacing equal tags', (t) => {
  const dataset = {
    '00080020': { vr: 'DA', Value: ['20260101'] },
    '00100010': { vr: 'PN' },
    '0020000D': { vr: 'UI', Value: ['1.2.3'] },
  };
  const merged = withAttributes(dataset, {
    '00081190': { vr: 'UR', Value: ['http://x/studies/1.2.3'] },
    '00080020': { vr: 'DA', Value: ['20250101'] },
    '00080056': { vr: 'CS', Value: ['ONLINE'] },
    '7FE00010': { vr: 'OB' },
    '00020010': { vr: 'UI' },
  });
  t.deepEqual(Object.keys(merged), [
    '00020010',
    '00080020',
    '00080056',
    '00081190',
    '00100010',
    '0020000D',
    '7FE00010',
  ]);
  t.deepEqual(merged['00080020'], { vr: 'DA', Value: ['20250101'] });
  t.deepEqual(withAttributes({}, { '00100020': { vr: 'LO' } }), { '00100020': { vr: 'LO' } });
});

test('rowToDicomJson orders tags with and without metadata attributes', (t) => {
  const attributes = QIDO_ATTRIBUTES.filter((a) => a.tag !== '00081030')
    .slice(0, 8)
    .reverse();
  const row = Object.fromEntries(attributes.map((a) => [a.tag, a.match === 'integer' ? 3 : 'X']));
  const plain = rowToDicomJson(row, { attributes });
  t.true(ascending(plain));
  t.is(Object.keys(plain).length, attributes.length);
  const withExtra = rowToDicomJson(
    { ...row, extra: { '00081030': { vr: 'LO', Value: ['Head'] }, '00000000': { vr: 'UL' } } },
    { attributes },
  );
  t.true(ascending(withExtra));
  t.deepEqual(withExtra['00081030'], { vr: 'LO', Value: ['Head'] });
});
