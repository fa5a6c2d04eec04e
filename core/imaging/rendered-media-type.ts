/**
 * Selected Media Type of a rendered image (PS3.18 §8.7.8.1). Lightbox renders image/jpeg, the
 * default media type of the Single Frame Image category, and image/png (PS3.18 Table 8.7.4-1).
 */
import { invalidParameter, RenderError } from './errors.js';
import type { RenderedMediaType } from './render-options.js';

/** Best first: on a tie of qvalues the server chooses (§8.7.8.1), and it chooses the default. */
const SUPPORTED: readonly RenderedMediaType[] = ['image/jpeg', 'image/png'];
const DEFAULT: RenderedMediaType = 'image/jpeg';

interface MediaRange {
  type: string;
  q: number;
  dicom: boolean;
}

/** Splits an Accept value into media ranges with their qvalue (RFC 9110 §12.5.1). */
export function parseMediaRanges(value: string): MediaRange[] {
  return value
    .split(',')
    .map((item) => {
      const [type, ...params] = item.split(';').map((p) => p.trim());
      const mediaType = type.toLowerCase();
      let q = 1;
      let partType = '';
      for (const param of params) {
        const [name, raw = ''] = param.split('=').map((p) => p.trim());
        const v = raw.replace(/^"|"$/g, '').toLowerCase();
        if (name.toLowerCase() === 'q')
          q = /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(v) ? Number(v) : 0;
        if (name.toLowerCase() === 'type') partType = v;
      }
      const dicom =
        mediaType.startsWith('application/dicom') ||
        (mediaType === 'multipart/related' && partType.startsWith('application/dicom'));
      return { type: mediaType, q, dicom };
    })
    .filter((r) => r.type !== '');
}

/** A concrete rendered media type (PS3.18 §8.7.4): images, video, text, PDF. */
function isRendered(range: MediaRange): boolean {
  return /^(image|video|text)\/[^*]+$/.test(range.type) || range.type === 'application/pdf';
}

/**
 * The qvalue of `offer` from the most specific range that matches it; the range "*\/*" matches only
 * the default media type of the category (PS3.18 §8.7.7).
 */
function qualityOf(offer: RenderedMediaType, ranges: MediaRange[]): number {
  const exact = ranges.filter((r) => r.type === offer);
  if (exact.length > 0) return Math.max(...exact.map((r) => r.q));
  const sub = ranges.filter((r) => r.type === `${offer.split('/')[0]}/*`);
  if (sub.length > 0) return Math.max(...sub.map((r) => r.q));
  const any = ranges.filter((r) => r.type === '*/*');
  return offer === DEFAULT && any.length > 0 ? Math.max(...any.map((r) => r.q)) : 0;
}

function best(ranges: MediaRange[]): RenderedMediaType | undefined {
  let chosen: RenderedMediaType | undefined;
  let chosenQ = 0;
  for (const offer of SUPPORTED) {
    const q = qualityOf(offer, ranges);
    if (q > chosenQ) [chosen, chosenQ] = [offer, q];
  }
  return chosen;
}

/**
 * Applies PS3.18 §8.7.8.1: the accept query parameter first (wildcards are not allowed there,
 * §8.3.3.1, and are ignored), then the Accept header, else 406.
 *
 * An absent Accept header is taken as "*\/*", following RFC 9110 §12.5.1 and the rest of the
 * Lightbox DICOMweb API (viewer-api/dicomweb/accept.ts), although PS3.18 §8.7.5 asks for 406.
 * DICOM and rendered media types together are a 400 (§8.7.5).
 */
export function selectRenderedMediaType(
  acceptQuery: string | undefined,
  acceptHeader: string | undefined,
): RenderedMediaType {
  const query = acceptQuery === undefined ? [] : parseMediaRanges(acceptQuery);
  const header = parseMediaRanges(acceptHeader?.trim() ? acceptHeader : '*/*');
  const all = [...query, ...header];
  if (all.some((r) => r.dicom) && all.some(isRendered)) {
    throw invalidParameter('DICOM and rendered media types cannot be requested together');
  }
  const chosen = best(query.filter((r) => !r.type.includes('*'))) ?? best(header);
  if (chosen) return chosen;
  throw new RenderError(
    'NotAcceptable',
    `rendered images are available as ${SUPPORTED.join(' or ')} only`,
  );
}
