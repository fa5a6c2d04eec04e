/**
 * Accept header negotiation for DICOMweb (PS3.18 §8.7: Acceptable Media Types; RFC 9110 §12.5.1). A
 * resource lists what it can send (offers, best first); the request's media ranges are tried in
 * order of quality and the first offer a range matches wins. Lightbox never transcodes: an offer
 * carries the transfer syntaxes the bytes are actually in, and a range naming another one does not
 * match (406). A range without transfer-syntax, or with "*", takes the bytes as stored (the part's
 * Content-Type then names their transfer syntax).
 */
import { LightboxError } from '../../core/errors.js';

export interface MediaRange {
  /** "type/subtype", lower case; "*\/*" and "type/*" are wildcards. */
  mediaType: string;
  /** Parameters, names in lower case ("type", "transfer-syntax", …), quotes removed. */
  params: Record<string, string>;
  q: number;
}

export interface Offer {
  /** What the response is: "multipart/related", "application/dicom+json", "application/octet-stream"… */
  mediaType: string;
  /** For multipart/related: the media type of every part (PS3.18 §8.7.3.3). */
  partType?: string;
  /** Transfer syntaxes of the bytes sent (PS3.18 §8.7.3.5); empty when the notion does not apply. */
  transferSyntaxes: readonly string[];
}

/** Splits on `separator` outside double quotes. */
function split(text: string, separator: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (const c of text) {
    if (c === '"') quoted = !quoted;
    if (c === separator && !quoted) {
      out.push(current);
      current = '';
    } else current += c;
  }
  out.push(current);
  return out;
}

/** Parses one media type with parameters (also used for Content-Type). */
export function parseMediaType(text: string): {
  mediaType: string;
  params: Record<string, string>;
} {
  const [type, ...rest] = split(text, ';');
  const params: Record<string, string> = {};
  for (const part of rest) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2)
      value = value.slice(1, -1);
    params[name] = name === 'type' ? value.toLowerCase() : value;
  }
  return { mediaType: type.trim().toLowerCase(), params };
}

/** The media ranges of an Accept header, best first (stable for equal q); absent means "*\/*". */
export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header || header.trim() === '') return [{ mediaType: '*/*', params: {}, q: 1 }];
  return split(header, ',')
    .map((range) => {
      const { mediaType, params } = parseMediaType(range);
      const q = params.q === undefined ? 1 : Number(params.q);
      return { mediaType, params, q: Number.isFinite(q) ? q : 0 };
    })
    .filter((r) => r.mediaType !== '' && r.q > 0)
    .sort((a, b) => b.q - a.q);
}

function typeMatches(range: string, actual: string): boolean {
  if (range === '*/*' || range === actual) return true;
  return range.endsWith('/*') && actual.startsWith(range.slice(0, -1));
}

function matches(range: MediaRange, offer: Offer): boolean {
  if (range.mediaType === '*/*') return true;
  if (!typeMatches(range.mediaType, offer.mediaType)) return false;
  const partType = range.params.type;
  if (partType !== undefined && offer.partType !== undefined) {
    if (!typeMatches(partType, offer.partType)) return false;
  }
  const transferSyntax = range.params['transfer-syntax'];
  if (transferSyntax === undefined || transferSyntax === '*') return true;
  return (
    offer.transferSyntaxes.length > 0 && offer.transferSyntaxes.every((t) => t === transferSyntax)
  );
}

/**
 * The offer to send for `header`. Throws NotAcceptable when no range matches any offer (PS3.18
 * §8.7.1: 406), e.g. a transfer syntax the instances are not stored in.
 */
export function negotiate(header: string | undefined, offers: readonly Offer[]): Offer {
  for (const range of parseAccept(header)) {
    const offer = offers.find((o) => matches(range, o));
    if (offer) return offer;
  }
  throw new LightboxError(
    'NotAcceptable',
    'none of the acceptable media types can be sent: Lightbox sends instances in the transfer syntax they are stored in and does not transcode',
  );
}

/** QIDO-RS and metadata: DICOM JSON (PS3.18 §8.7.3.2); application/json is accepted as its alias. */
export function negotiateDicomJson(header: string | undefined): string {
  return negotiate(header, [
    { mediaType: 'application/dicom+json', transferSyntaxes: [] },
    { mediaType: 'application/json', transferSyntaxes: [] },
  ]).mediaType;
}
