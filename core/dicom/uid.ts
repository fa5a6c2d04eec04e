/**
 * PS3.5 §9.1: a UID is at most 64 characters of digits and dots, components without leading zeros
 * (a component may be the single digit 0), no empty component.
 */
import { LightboxError } from '../errors.js';

const UID_PATTERN = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;

export function isValidUID(value: unknown): value is string {
  return (
    typeof value === 'string' && value.length > 0 && value.length <= 64 && UID_PATTERN.test(value)
  );
}

/** Throws InvalidUID naming the attribute (never the value: UIDs stay out of messages and logs). */
export function assertValidUID(value: unknown, keyword: string): string {
  if (!isValidUID(value)) throw new LightboxError('InvalidUID', `${keyword} is not a valid UID`);
  return value;
}

/** Many senders pad UIDs with a trailing NUL (PS3.5 §6.2 UI padding); strip before validating. */
export function trimUID(value: string): string {
  return value.replace(/[\0 ]+$/, '');
}
