/**
 * Rendering parameters of a WADO-URI request (PS3.18 Chapter 9, URI Service; the parameters are
 * specified in PS3.18-2019a §8.1.5 contentType and §8.2 rows, columns, region, windowCenter,
 * windowWidth, frameNumber, imageQuality). The caller has already dealt with requestType, the UIDs
 * and contentType=application/dicom; presentationUID, annotation and charset are not supported and
 * are ignored.
 */
import { invalidParameter, RenderError } from './errors.js';
import type { NormalizedRegion, RenderOptions } from './render-options.js';
import { parseMediaRanges } from './rendered-media-type.js';
import {
  checkedWindow,
  decimal,
  parseQuality,
  positiveInteger,
  single,
  type Query,
} from './rendered-query.js';

export interface WadoUriRendering {
  options: RenderOptions;
  /** 1-based; 1 when frameNumber is absent. */
  frameNumber: number;
}

function contentType(value: string | undefined): RenderOptions['accept'] {
  if (value === undefined || value.trim() === '') return 'image/jpeg'; // the WADO-URI default
  const ranges = parseMediaRanges(value).filter((r) => r.q > 0);
  const q = (type: string) => Math.max(0, ...ranges.filter((r) => r.type === type).map((r) => r.q));
  if (q('image/jpeg') > 0 && q('image/jpeg') >= q('image/png')) return 'image/jpeg';
  if (q('image/png') > 0) return 'image/png';
  throw new RenderError(
    'NotAcceptable',
    'rendered images are available as image/jpeg or image/png only',
  );
}

/** region=xmin,ymin,xmax,ymax, normalised to 0.0–1.0 (PS3.18-2019a §8.2.4). */
function region(text: string): NormalizedRegion {
  const parts = text.split(',').map((p) => decimal(p.trim(), 'region'));
  if (parts.length !== 4 || parts.some((v) => v < 0 || v > 1)) {
    throw invalidParameter('region must be four numbers from 0.0 to 1.0');
  }
  const [xmin, ymin, xmax, ymax] = parts;
  if (!(xmin < xmax && ymin < ymax)) throw invalidParameter('region must not be empty');
  return { xmin, ymin, xmax, ymax };
}

/** RenderOptions and the frame number of a WADO-URI rendered request; RenderError 400/406. */
export function parseWadoUriQuery(query: Query): WadoUriRendering {
  const get = (name: string) => {
    const value = single(query, name)?.trim();
    if (value === '') throw invalidParameter(`the ${name} parameter has no value`);
    return value;
  };
  const options: RenderOptions = { accept: contentType(single(query, 'contentType')) };
  const rows = get('rows');
  const columns = get('columns');
  if (rows !== undefined || columns !== undefined) {
    options.viewport = {};
    if (rows !== undefined) options.viewport.height = positiveInteger(rows, 'rows');
    if (columns !== undefined) options.viewport.width = positiveInteger(columns, 'columns');
  }
  const regionText = get('region');
  if (regionText !== undefined) options.region = region(regionText);
  const center = get('windowCenter');
  const width = get('windowWidth');
  if ((center === undefined) !== (width === undefined)) {
    throw invalidParameter('windowCenter and windowWidth go together');
  }
  if (center !== undefined && width !== undefined) {
    options.window = checkedWindow({
      center: decimal(center, 'windowCenter'),
      width: decimal(width, 'windowWidth'),
      function: 'LINEAR',
    });
  }
  const quality = get('imageQuality');
  if (quality !== undefined) options.quality = parseQuality(quality);
  const frame = get('frameNumber');
  return {
    options,
    frameNumber: frame === undefined ? 1 : positiveInteger(frame, 'frameNumber', 2 ** 31 - 1),
  };
}
