/**
 * D (PS3.15 §E.3.1): "a non-zero length value that may be a dummy value and consistent with the VR".
 * One dummy per VR, valid under PS3.5 Table 6.2-1; padded to an even length by the writer.
 */

const TEXT = 'ANONYMIZED';

/** Dummy value bytes of a VR (not SQ, not UI: those are handled by the caller). */
export function dummyValue(vr: string): Buffer {
  switch (vr) {
    case 'DA':
      return Buffer.from('19000101');
    case 'DT':
      return Buffer.from('19000101000000');
    case 'TM':
      return Buffer.from('000000');
    case 'AS':
      return Buffer.from('000D');
    case 'DS':
    case 'IS':
      return Buffer.from('0 ');
    case 'US':
    case 'SS':
    case 'OB':
    case 'OW':
    case 'UN':
      return Buffer.alloc(2);
    case 'UL':
    case 'SL':
    case 'FL':
    case 'AT':
    case 'OF':
    case 'OL':
      return Buffer.alloc(4);
    case 'FD':
    case 'SV':
    case 'UV':
    case 'OD':
    case 'OV':
      return Buffer.alloc(8);
    case 'UR':
      return Buffer.from('about:blank ');
    default: // AE CS LO LT PN SH ST UC UT
      return Buffer.from(TEXT);
  }
}
