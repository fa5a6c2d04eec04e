/**
 * Accept negotiation (PS3.18 §8.7, RFC 9110 §12.5.1): quality order, wildcards, the type and
 * transfer-syntax parameters, and 406 for a transfer syntax the bytes are not in.
 */
import test from 'ava';
import { isLightboxError } from '../../../core/errors.js';
import {
  negotiate,
  negotiateDicomJson,
  parseAccept,
  type Offer,
} from '../../../viewer-api/dicomweb/accept.js';

const JPEG = '1.2.840.10008.1.2.4.50';
const offers: Offer[] = [
  { mediaType: 'multipart/related', partType: 'image/jpeg', transferSyntaxes: [JPEG] },
  {
    mediaType: 'multipart/related',
    partType: 'application/octet-stream',
    transferSyntaxes: [JPEG],
  },
];

test('media ranges are ordered by quality, parameters unquoted, commas inside quotes kept', (t) => {
  const ranges = parseAccept(
    'application/json;q=0.5, multipart/related; type="application/dicom"; transfer-syntax=*, */*;q=0.1',
  );
  t.deepEqual(
    ranges.map((r) => [r.mediaType, r.q]),
    [
      ['multipart/related', 1],
      ['application/json', 0.5],
      ['*/*', 0.1],
    ],
  );
  t.deepEqual(ranges[0].params, { type: 'application/dicom', 'transfer-syntax': '*' });
  t.deepEqual(parseAccept('a/b; x="1,2"')[0].params, { x: '1,2' });
  t.deepEqual(parseAccept(undefined), [{ mediaType: '*/*', params: {}, q: 1 }]);
  t.deepEqual(parseAccept('text/html;q=0'), []);
});

test('the first offer a range matches wins; type and transfer-syntax must agree', (t) => {
  t.is(negotiate(undefined, offers).partType, 'image/jpeg');
  t.is(negotiate('*/*', offers).partType, 'image/jpeg');
  const octets = 'multipart/related; type="application/octet-stream"; transfer-syntax=*';
  t.is(negotiate(octets, offers).partType, 'application/octet-stream');
  t.is(negotiate('multipart/related; type="image/*"', offers).partType, 'image/jpeg');
  t.is(
    negotiate(`multipart/related; type="image/jpeg"; transfer-syntax=${JPEG}`, offers).partType,
    'image/jpeg',
  );
  t.is(
    negotiate('multipart/related; type="application/octet-stream"', offers).partType,
    'application/octet-stream',
  );
});

test('a transfer syntax the bytes are not in, or a media type not offered, is NotAcceptable', (t) => {
  for (const accept of [
    'multipart/related; type="application/octet-stream"; transfer-syntax=1.2.840.10008.1.2.1',
    'multipart/related; type="image/jp2"',
    'application/dicom+json',
  ]) {
    const error = t.throws(() => negotiate(accept, offers));
    t.true(isLightboxError(error, 'NotAcceptable'), accept);
  }
});

test('DICOM JSON: application/dicom+json, application/json, wildcards; not XML', (t) => {
  t.is(negotiateDicomJson(undefined), 'application/dicom+json');
  t.is(negotiateDicomJson('application/json'), 'application/json');
  t.is(negotiateDicomJson('application/*'), 'application/dicom+json');
  t.throws(() => negotiateDicomJson('multipart/related; type="application/dicom+xml"'));
});
