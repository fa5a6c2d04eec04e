/**
 * C-FIND logic without a network: identifier parsing (levels, match and return keys) and the
 * response loop (pages, C-CANCEL between responses, failure statuses) over a fake index.
 */
import test from 'ava';
import type { DicomJson, IndexStore } from '../../core/archive/index-store.js';
import type { QidoQuery } from '../../core/archive/qido-query.js';
import { LightboxError } from '../../core/errors.js';
import { cFind, type FindContext } from '../../gateway/c-find.js';
import { parseFindIdentifier } from '../../gateway/query-identifier.js';

const level = (value: string): DicomJson => ({ '00080052': { vr: 'CS', Value: [value] } });

test('identifier: match keys, empty return keys, keys only the header has, unsupported matching', (t) => {
  const parsed = parseFindIdentifier(
    {
      ...level('STUDY'),
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'DOE*' }] },
      '00080020': { vr: 'DA', Value: ['20240101-20241231'] },
      '00081030': { vr: 'LO', Value: [''] },
      '00080080': { vr: 'LO', Value: ['General*'] },
    },
    'study',
  );
  t.is(parsed.indexLevel, 'study');
  t.deepEqual(
    parsed.matches.map((m) => [m.attribute.keyword, m.matcher]),
    [
      ['PatientName', { kind: 'single', value: 'DOE*' }],
      ['StudyDate', { kind: 'range', from: '20240101', to: '20241231' }],
    ],
  );
  t.deepEqual(parsed.metadataTags, ['00080080']);
  t.true(parsed.unsupportedMatching, 'InstitutionName cannot be matched');
  t.true(
    parsed.attributes.some((a) => a.keyword === 'StudyInstanceUID'),
    'the unique key is always read',
  );
  t.deepEqual(
    parsed.returnKeys.map((k) => k.tag),
    ['00100010', '00080020', '00081030', '00080080'],
  );
});

test('identifier: PATIENT only in Patient Root; malformed values are BadRequest', (t) => {
  t.is(parseFindIdentifier(level('PATIENT'), 'patient').level, 'PATIENT');
  t.throws(() => parseFindIdentifier(level('PATIENT'), 'study'), {
    message: /PATIENT not in this model/,
  });
  t.throws(() => parseFindIdentifier({}, 'study'), { message: /\(none\)/ });
  t.throws(
    () =>
      parseFindIdentifier(
        { ...level('SERIES'), '0020000D': { vr: 'UI', Value: ['1.02'] } },
        'study',
      ),
    { message: /StudyInstanceUID is not a valid UID/ },
  );
});

function fakeIndex(total: number, fail?: LightboxError): { index: IndexStore; pages: number[] } {
  const pages: number[] = [];
  const searchForStudies = async (query: QidoQuery) => {
    if (fail) throw fail;
    pages.push(query.offset);
    const matches = Array.from(
      { length: Math.max(0, Math.min(query.limit, total - query.offset)) },
      (_, i) => ({
        '0020000D': { vr: 'UI', Value: [`1.2.${query.offset + i}`] },
      }),
    );
    return { matches, more: query.offset + query.limit < total };
  };
  return { index: { searchForStudies } as unknown as IndexStore, pages };
}

function context(index: IndexStore, cancelAfter = Infinity) {
  const sent: Array<{ status: number; uid?: unknown; errorComment?: string }> = [];
  const ctx: FindContext = {
    index,
    scope: { kind: 'all' },
    aeTitle: 'LIGHTBOX',
    cancelled: () => sent.length >= cancelAfter,
    respond: (status, identifier, errorComment) =>
      sent.push({ status, uid: identifier?.['0020000D']?.Value?.[0], errorComment }),
  };
  return { ctx, sent };
}

test('responses: one Pending per match across pages, then Success', async (t) => {
  const { index, pages } = fakeIndex(450);
  const { ctx, sent } = context(index);
  await cFind(ctx, 'study', { ...level('STUDY'), '0020000D': { vr: 'UI' } });
  t.deepEqual(pages, [0, 200, 400]);
  t.is(sent.length, 451);
  t.true(sent.slice(0, 450).every((r) => r.status === 0xff00));
  t.is(sent[449].uid, '1.2.449');
  t.is(sent[450].status, 0x0000);
});

test('responses: a C-CANCEL stops before the next match with 0xFE00', async (t) => {
  const { index } = fakeIndex(10);
  const { ctx, sent } = context(index, 3);
  await cFind(ctx, 'study', level('STUDY'));
  t.deepEqual(
    sent.map((r) => r.status),
    [0xff00, 0xff00, 0xff00, 0xfe00],
  );
});

test('failures: index unavailable 0xA700, bad identifier 0xA900, anything else 0xC000', async (t) => {
  const unavailable = context(fakeIndex(1, new LightboxError('StorageUnavailable', 'down')).index);
  await cFind(unavailable.ctx, 'study', level('STUDY'));
  t.like(unavailable.sent, [{ status: 0xa700 }]);
  const bad = context(fakeIndex(1).index);
  await cFind(bad.ctx, 'study', level('WORKLIST'));
  t.like(bad.sent, [{ status: 0xa900 }]);
  const other = context(fakeIndex(1, new LightboxError('Internal', 'boom')).index);
  await cFind(other.ctx, 'study', level('STUDY'));
  t.like(other.sent, [{ status: 0xc000, errorComment: 'Unable to process' }]);
});
