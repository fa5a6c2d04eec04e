/**
 * SpecificCharacterSet (0008,0005) decoding for the text VRs SH, LO, ST, LT, UC, UT and PN
 * (PS3.5 §6.1, PS3.3 §C.12.1.1.2). Single-byte and UTF-8/GB18030/GBK sets map onto a WHATWG
 * TextDecoder; the ISO 2022 code extensions (a multi-valued SpecificCharacterSet, Japanese and Korean
 * data) are decoded escape sequence by escape sequence (PS3.5 §6.1.2.5).
 */

/** Turns the bytes of one text value into a string. `isPN` enables the PN delimiters (^ and =). */
export type TextDecode = (bytes: Uint8Array, isPN: boolean) => string;

const decoders = new Map<string, TextDecoder>();
function decoder(label: string): TextDecoder {
  let d = decoders.get(label);
  if (!d) decoders.set(label, (d = new TextDecoder(label)));
  return d;
}

/** ISO-IR registration number → WHATWG encoding of the single-byte G1 set (PS3.3 Table C.12-2). */
const SINGLE_BYTE: Readonly<Record<string, string>> = {
  '100': 'latin1', // windows-1252 is a superset of ISO 8859-1's graphic characters
  '101': 'iso-8859-2',
  '109': 'iso-8859-3',
  '110': 'iso-8859-4',
  '144': 'iso-8859-5',
  '127': 'iso-8859-6',
  '126': 'iso-8859-7',
  '138': 'iso-8859-8',
  '148': 'windows-1254', // superset of ISO 8859-9
  '203': 'iso-8859-15',
  '166': 'windows-874', // superset of TIS 620-2533
  '13': 'shift_jis', // JIS X 0201: bytes 0xA1–0xDF are the half-width katakana
};

const utf8Fatal = new TextDecoder('utf-8', { fatal: true });

function isASCII(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] > 0x7f) return false;
  return true;
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/**
 * The default repertoire (no SpecificCharacterSet) is ASCII. Non-ASCII bytes there are a sender's
 * mistake; we read them as UTF-8 when they are valid UTF-8 and as Windows-1252 otherwise, so that a
 * name is still readable rather than replaced by U+FFFD.
 */
export const decodeDefault: TextDecode = (bytes) => {
  if (isASCII(bytes)) return latin1(bytes);
  try {
    return utf8Fatal.decode(bytes);
  } catch {
    return decoder('latin1').decode(bytes);
  }
};

/** 'ISO_IR 100', 'ISO 2022 IR 100', and common misspellings ('ISO-IR 100', 'ISO_IR100') → '100'. */
function isoIRNumber(term: string): string | undefined {
  return /^ISO[ _-]?(?:2022[ _-]?)?IR[ _-]?(\d+)$/.exec(term.trim().toUpperCase())?.[1];
}

/**
 * Builds the decoder for a data set's SpecificCharacterSet values (empty values as '' or null).
 * Unknown terms fall back to the default repertoire rule above rather than failing the instance.
 */
export function textDecoderFor(values: readonly (string | null)[]): TextDecode {
  const terms = values.map((v) => (v ?? '').trim().toUpperCase());
  if (terms.length === 0 || (terms.length === 1 && terms[0] === '')) return decodeDefault;
  if (terms.length === 1 && !terms[0].startsWith('ISO 2022')) {
    const label = singleSetLabel(terms[0]);
    if (!label) return decodeDefault;
    const d = decoder(label);
    return (bytes) => (isASCII(bytes) ? latin1(bytes) : d.decode(bytes));
  }
  return iso2022Decoder(terms);
}

function singleSetLabel(term: string): string | undefined {
  if (term === 'ISO_IR 192') return 'utf-8';
  if (term === 'GB18030') return 'gb18030';
  if (term === 'GBK') return 'gbk';
  const number = isoIRNumber(term);
  if (number === '192') return 'utf-8'; // a misspelt ISO_IR 192
  return number === undefined ? undefined : SINGLE_BYTE[number];
}

type G0 = 'ascii' | 'jisx0208' | 'jisx0212';
interface State {
  g0: G0;
  g1: string | undefined; // WHATWG label decoding bytes ≥ 0x80
}

/** Escape sequences of PS3.3 Tables C.12-3 and C.12-4, without the leading ESC. */
const ESCAPES: ReadonlyArray<[string, Partial<State>]> = [
  ['(B', { g0: 'ascii' }], // ISO-IR 6
  ['(J', { g0: 'ascii' }], // ISO-IR 14 JIS X 0201 Romaji (ASCII except ¥ and ‾)
  [')I', { g1: 'shift_jis' }], // ISO-IR 13 JIS X 0201 Katakana
  ['$B', { g0: 'jisx0208' }], // ISO-IR 87
  ['$(D', { g0: 'jisx0212' }], // ISO-IR 159
  ['$)C', { g1: 'euc-kr' }], // ISO-IR 149 KS X 1001 in G1 = EUC-KR
  ['$)A', { g1: 'gb18030' }], // ISO-IR 58 GB 2312 in G1 = EUC-CN ⊂ GB18030
  ['-A', { g1: SINGLE_BYTE['100'] }],
  ['-B', { g1: SINGLE_BYTE['101'] }],
  ['-C', { g1: SINGLE_BYTE['109'] }],
  ['-D', { g1: SINGLE_BYTE['110'] }],
  ['-L', { g1: SINGLE_BYTE['144'] }],
  ['-G', { g1: SINGLE_BYTE['127'] }],
  ['-F', { g1: SINGLE_BYTE['126'] }],
  ['-H', { g1: SINGLE_BYTE['138'] }],
  ['-M', { g1: SINGLE_BYTE['148'] }],
  ['-T', { g1: SINGLE_BYTE['166'] }],
  ['-b', { g1: SINGLE_BYTE['203'] }],
];

const ESC = 0x1b;
const PN_DELIMITERS = new Set([0x5e, 0x3d]); // ^ =
const DELIMITERS = new Set([0x5c, 0x0d, 0x0a, 0x0c, 0x09]); // \ CR LF FF TAB

function iso2022Decoder(terms: string[]): TextDecode {
  const first = isoIRNumber(terms[0]);
  const initial: State = {
    g0: 'ascii',
    g1: first && first !== '6' ? SINGLE_BYTE[first] : undefined,
  };
  return (bytes, isPN) => {
    if (isASCII(bytes) && !bytes.includes(ESC)) return latin1(bytes);
    let state = initial;
    let out = '';
    let runStart = 0;
    const flush = (end: number) => {
      if (end > runStart) out += decodeRun(bytes.subarray(runStart, end), state);
    };
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i];
      if (byte === ESC) {
        const escape = ESCAPES.find(([seq]) => matches(bytes, i + 1, seq));
        flush(i);
        const length = escape ? escape[0].length : 0;
        if (escape) state = { ...state, ...escape[1] };
        i += length;
        runStart = i + 1;
      } else if (
        state.g0 === 'ascii' &&
        state !== initial &&
        (DELIMITERS.has(byte) || (isPN && PN_DELIMITERS.has(byte)))
      ) {
        // PS3.5 §6.1.2.5.3: value 1's character set is active again before each delimiter.
        flush(i);
        state = initial;
        runStart = i;
      }
    }
    flush(bytes.length);
    return out;
  };
}

function matches(bytes: Uint8Array, at: number, sequence: string): boolean {
  for (let k = 0; k < sequence.length; k++) {
    if (bytes[at + k] !== sequence.charCodeAt(k)) return false;
  }
  return true;
}

/** Decodes bytes under one G0/G1 designation: < 0x80 through G0, ≥ 0x80 through G1. */
function decodeRun(bytes: Uint8Array, state: State): string {
  if (state.g0 !== 'ascii') {
    // JIS X 0208 / 0212 in G0 are 7-bit byte pairs; EUC-JP is the same pairs with the high bit set
    // (and SS3 0x8F before JIS X 0212).
    const euc: number[] = [];
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (b >= 0x21 && b <= 0x7e && i + 1 < bytes.length) {
        if (state.g0 === 'jisx0212') euc.push(0x8f);
        euc.push(b | 0x80, bytes[++i] | 0x80);
      } else euc.push(b);
    }
    return decoder('euc-jp').decode(Uint8Array.from(euc));
  }
  if (state.g1 === undefined || isASCII(bytes)) return decodeDefault(bytes, false);
  return decoder(state.g1).decode(bytes);
}
