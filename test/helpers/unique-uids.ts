/**
 * The pydicom test files share SOP Instance UIDs (MR_small.dcm and its seven re-encodings are one
 * instance). An archive keeps the first bytes of a UID and sets the others aside, so to archive them
 * all side by side each later copy gets a UID of its own, written over the old one in place: same
 * length, same offsets, every other byte unchanged. The copy is then the file under test.
 */

/** A UID of the same length: its last three non-leading digits replaced (PS3.5 §9.1 still holds). */
export function variantUID(uid: string, variant: number): string {
  const chars = [...uid];
  const digits = String(variant).padStart(3, '0').split('').reverse();
  let d = 0;
  for (let i = chars.length - 1; i > 0 && d < digits.length; i--) {
    if (/\d/.test(chars[i]) && /\d/.test(chars[i - 1])) chars[i] = digits[d++];
  }
  if (d < digits.length) throw new Error('UID too short to vary');
  return chars.join('');
}

/** Every occurrence of `uid` in the file (meta group, data set, references) replaced by `replacement`. */
export function replaceUID(file: Buffer, uid: string, replacement: string): Buffer {
  if (replacement.length !== uid.length) throw new Error('replacement must keep the length');
  const out = Buffer.from(file);
  const from = Buffer.from(uid, 'latin1');
  const to = Buffer.from(replacement, 'latin1');
  const uidChar = (byte: number | undefined) =>
    byte !== undefined && /[0-9.]/.test(String.fromCharCode(byte));
  for (let at = out.indexOf(from); at >= 0; at = out.indexOf(from, at + from.length)) {
    // Whole values only: not the start of a longer UID. (The byte before is the value length, which
    // may well be a digit or '.' in ASCII: a 46-byte UID's length is 0x2E.)
    if (!uidChar(out[at + from.length])) to.copy(out, at);
  }
  return out;
}
