import test from 'ava';
import { assertValidUID, isValidUID, trimUID } from '../../../core/dicom/uid.js';

test('accepts PS3.5 §9.1 UIDs', (t) => {
  t.true(isValidUID('1.2.840.10008.1.2.1'));
  t.true(isValidUID('2.25.0'));
  t.true(isValidUID('1.' + '2'.repeat(62)));
});

test('rejects leading zeros, empty components, letters and >64 characters', (t) => {
  for (const bad of ['', '1..2', '1.02', '.1', '1.', '1.2.a', '1.' + '2'.repeat(63), '1.2 ', 42]) {
    t.false(isValidUID(bad), String(bad));
  }
});

test('assertValidUID names the attribute, not the value', (t) => {
  const error = t.throws(() => assertValidUID('1.02', 'SOPInstanceUID'));
  t.is((error as { code?: string }).code, 'InvalidUID');
  t.regex(error!.message, /SOPInstanceUID/);
  t.notRegex(error!.message, /1\.02/);
});

test('trimUID strips NUL and space padding', (t) => {
  t.is(trimUID('1.2.3\0'), '1.2.3');
  t.is(trimUID('1.2.3 '), '1.2.3');
});
