/**
 * Query parameters of the WADO-RS Retrieve Rendered and Thumbnail transactions (PS3.18 §8.3.5.1 and
 * §8.3.5.2). Unsupported parameters (annotation, charset, iccprofile) are ignored, as §8.3 requires;
 * a supported parameter with an invalid value is a 400.
 */
import { invalidParameter } from './errors.js';
import type { RenderOptions, RenderWindow, Viewport, VOILUTFunction } from './render-options.js';
import { selectRenderedMediaType } from './rendered-media-type.js';

export type Query = Record<string, string | string[] | undefined>;

/** Which resource the parameters are for: thumbnails take accept and viewport=vw,vh only. */
export type RenderTarget = 'rendered' | 'thumbnail';

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const UINT = /^\d+$/;

/** PS3.18 §8.3.5.1.4 keywords, and the VOI LUT Function spellings for lenient clients. */
const FUNCTIONS: Record<string, VOILUTFunction> = {
  linear: 'LINEAR',
  'linear-exact': 'LINEAR_EXACT',
  linear_exact: 'LINEAR_EXACT',
  sigmoid: 'SIGMOID',
};

/** One value of a parameter; a repeated parameter is ambiguous, hence a 400. */
export function single(query: Query, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) {
    if (value.length > 1) throw invalidParameter(`the ${name} parameter is repeated`);
    return value[0];
  }
  return value;
}

export function decimal(text: string, what: string): number {
  const value = Number(text);
  if (!DECIMAL.test(text) || !Number.isFinite(value))
    throw invalidParameter(`${what} is not a number`);
  return value;
}

export function positiveInteger(text: string, what: string, max = 65535): number {
  const value = Number(text);
  if (!UINT.test(text) || value < 1 || value > max) {
    throw invalidParameter(`${what} must be an integer from 1 to ${max}`);
  }
  return value;
}

/** quality=1..100 (PS3.18 §8.3.5.1.2). */
export function parseQuality(text: string): number {
  return positiveInteger(text, 'quality', 100);
}

/** window=center,width,function; all three are required (PS3.18 §8.3.5.1.4). */
export function parseWindow(text: string): RenderWindow {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length !== 3 || parts.some((p) => p === '')) {
    throw invalidParameter('window must be center,width,function');
  }
  const center = decimal(parts[0], 'window center');
  const width = decimal(parts[1], 'window width');
  const fn = FUNCTIONS[parts[2].toLowerCase()];
  if (!fn) throw invalidParameter('window function must be linear, linear-exact or sigmoid');
  return checkedWindow({ center, width, function: fn });
}

/** Window Width is ≥ 1 for LINEAR and > 0 for LINEAR_EXACT and SIGMOID (PS3.3 §C.11.2.1.2). */
export function checkedWindow(window: RenderWindow): RenderWindow {
  const linear = (window.function ?? 'LINEAR') === 'LINEAR';
  if (linear ? !(window.width >= 1) : !(window.width > 0)) {
    throw invalidParameter(`window width must be ${linear ? 'at least 1' : 'greater than 0'}`);
  }
  return window;
}

/**
 * viewport=vw,vh[,sx,sy,sw,sh] (PS3.18 §8.3.5.1.3): elided values keep their commas
 * ("512,512,,,256,256"); trailing ones are omitted. Thumbnails take vw,vh only.
 */
export function parseViewport(text: string, target: RenderTarget): Viewport {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length < 2 || parts.length > 6)
    throw invalidParameter('viewport must be vw,vh[,sx,sy,sw,sh]');
  if (target === 'thumbnail' && parts.length > 2) {
    throw invalidParameter('the thumbnail viewport takes vw,vh only');
  }
  const viewport: Viewport = {
    width: positiveInteger(parts[0], 'viewport width'),
    height: positiveInteger(parts[1], 'viewport height'),
  };
  const names = ['sx', 'sy', 'sw', 'sh'] as const;
  names.forEach((name, i) => {
    const part = parts[i + 2];
    if (part !== undefined && part !== '') viewport[name] = decimal(part, `viewport ${name}`);
  });
  if (viewport.sw === 0 || viewport.sh === 0)
    throw invalidParameter('viewport sw and sh cannot be 0');
  return viewport;
}

/** The value of a parameter that must have one when present ("quality=" is a 400). */
function present(query: Query, name: string): string | undefined {
  const value = single(query, name);
  if (value !== undefined && value.trim() === '')
    throw invalidParameter(`the ${name} parameter has no value`);
  return value?.trim();
}

/**
 * RenderOptions from the query parameters and the Accept header of a Retrieve Rendered or Thumbnail
 * request. Throws RenderError: 400 for an invalid value, 406 when neither the accept parameter nor
 * the Accept header allows image/jpeg or image/png.
 */
export function parseRenderedQuery(
  query: Query,
  accept: string | undefined,
  target: RenderTarget = 'rendered',
): RenderOptions {
  const acceptParam = query.accept;
  const acceptQuery = Array.isArray(acceptParam) ? acceptParam.join(',') : acceptParam;
  const options: RenderOptions = { accept: selectRenderedMediaType(acceptQuery, accept) };
  const viewport = present(query, 'viewport');
  if (viewport !== undefined) options.viewport = parseViewport(viewport, target);
  if (target === 'thumbnail') return options;
  const quality = present(query, 'quality');
  if (quality !== undefined) options.quality = parseQuality(quality);
  const window = present(query, 'window');
  if (window !== undefined) options.window = parseWindow(window);
  return options;
}
