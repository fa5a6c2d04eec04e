/**
 * One match key's value(s) → a Matcher (PS3.4 §C.2.2.2), shared by QIDO-RS query parameters and
 * C-FIND identifiers so that both match alike: UID, code and integer lists ("," or "\\"), date and
 * time ranges ("from-to", either bound open), single values with wildcards; all-empty → universal.
 * A malformed value is BadRequest (400 in QIDO-RS, 0xA900 in C-FIND).
 */
import { assertValidUID } from '../dicom/uid.js';
import { LightboxError } from '../errors.js';
import type { QidoAttribute } from './qido-attributes.js';
import type { Matcher } from './qido-query.js';

const DATE = /^\d{8}$/;
const TIME = /^\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?$/;
const INTEGER = /^[+-]?\d{1,10}$/;

/** undefined for universal matching. */
export function parseMatcher(attribute: QidoAttribute, raw: string[]): Matcher | undefined {
  const { match, keyword } = attribute;
  const listed = match === 'uid' || match === 'code' || match === 'integer';
  const values = listed ? raw.flatMap((v) => v.split(/[,\\]/)) : raw;
  if (values.every((v) => v === '')) return undefined;
  if (values.length > 1 && !listed) {
    throw new LightboxError('BadRequest', `${keyword} takes one value`);
  }
  for (const value of values) {
    if (match === 'uid') assertValidUID(value, keyword);
    if (match === 'integer' && !INTEGER.test(value)) {
      throw new LightboxError('BadRequest', `${keyword} must be an integer`);
    }
  }
  if (values.length > 1) return { kind: 'list', values };
  const value = values[0];
  if ((match === 'date' || match === 'time') && value.includes('-')) {
    const [from, to, ...rest] = value.split('-');
    if (rest.length > 0 || (from === '' && to === '')) {
      throw new LightboxError('BadRequest', `${keyword} is not a valid range`);
    }
    for (const bound of [from, to]) checkDateOrTime(attribute, bound, true);
    return { kind: 'range', from: from || undefined, to: to || undefined };
  }
  checkDateOrTime(attribute, value, false);
  return { kind: 'single', value };
}

function checkDateOrTime(attribute: QidoAttribute, value: string, bound: boolean): void {
  if (bound && value === '') return;
  const pattern = attribute.match === 'date' ? DATE : attribute.match === 'time' ? TIME : undefined;
  if (pattern && !pattern.test(value)) {
    throw new LightboxError(
      'BadRequest',
      `${attribute.keyword} is not a valid ${attribute.vr} value`,
    );
  }
}
