/**
 * What the Basic Application Level Confidentiality Profile (PS3.15 §E.2, Table E.1-1) does to one
 * attribute, resolved to one of five operations. Where the standard leaves a choice that depends on
 * the attribute's Type in the IOD (Z/D, X/Z, X/D, X/Z/D, X/Z/U*), we take the branch that keeps any
 * IOD conformant without knowing the IOD: Z/D, X/D and X/Z/D → D (a dummy satisfies Type 1, 2 and 3);
 * X/Z → Z (an empty value satisfies Type 2 and 3); X/Z/U* → the sequence is kept and cleaned, so its
 * UIDs are replaced (U) and everything else in it follows the table. C (clean) → a dummy: we keep no
 * "similar meaning" text, which is the safe reading of clean.
 * Also removed (X), by rule rather than row: private attributes (odd groups), curves (50xx,xxxx),
 * overlay data and comments (60xx,3000 / 60xx,4000), and group lengths (their value would be wrong).
 */
import { BASIC_PROFILE, type ProfileAction } from './basic-profile-table.js';

export type Operation = 'remove' | 'empty' | 'dummy' | 'uid' | 'keep';

const RESOLVED: Record<ProfileAction, Operation> = {
  D: 'dummy',
  Z: 'empty',
  X: 'remove',
  K: 'keep',
  C: 'dummy',
  U: 'uid',
  'Z/D': 'dummy',
  'X/Z': 'empty',
  'X/D': 'dummy',
  'X/Z/D': 'dummy',
  'X/Z/U*': 'keep',
};

/** The action code of the table (or of its pattern rows) for a tag; undefined: not listed (K). */
export function profileAction(tag: number): ProfileAction | undefined {
  const group = tag >>> 16;
  const element = tag & 0xffff;
  if (group & 1) return 'X'; // Private Attributes
  if ((group & 0xff00) === 0x5000) return 'X'; // Curve Data (50xx,xxxx)
  if ((group & 0xff00) === 0x6000 && (element === 0x3000 || element === 0x4000)) return 'X';
  return BASIC_PROFILE.get(tag);
}

/** The operation applied to a data element (never called for item and delimitation tags). */
export function operationFor(tag: number): Operation {
  if ((tag & 0xffff) === 0 && tag >>> 16 !== 0x0002) return 'remove'; // group length
  const action = profileAction(tag);
  return action === undefined ? 'keep' : RESOLVED[action];
}
