/**
 * The grayscale part of the pipeline (PS3.4 §N.2.1): Modality LUT (rescale) then VOI LUT (window).
 *
 * dcmjs-imaging truncates `value × slope + intercept` to an integer and implements LINEAR_EXACT
 * without its +0.5 term (PS3.3 §C.11.2.1.3.2). Both are avoided by handing it stored values with
 * slope 1 and intercept 0, and a window converted to stored values: the VOI functions are affine in
 * x before their clamp or sigmoid, so the window on x_m = s·x + b equals a window on x. LINEAR_EXACT
 * is expressed as LINEAR with c + 0.5 and w + 1, which is the same function.
 */
import { numberOf, type Elements } from './dicom-image.js';
import type { RenderWindow, VOILUTFunction } from './render-options.js';

export interface ModalityRescale {
  slope: number;
  intercept: number;
}

/** The window handed to dcmjs-imaging: on stored values, LINEAR or SIGMOID. */
export interface StoredWindow {
  center: number;
  width: number;
  function: 'LINEAR' | 'SIGMOID';
}

function firstItem(value: unknown): Elements | undefined {
  const item = Array.isArray(value) ? value[0] : value;
  return typeof item === 'object' && item !== null ? (item as Elements) : undefined;
}

/**
 * `attribute` of frame `index`: the Per-Frame Functional Group, then the Shared one (PS3.3
 * §C.7.6.16), then the top level data set.
 */
function frameAttribute(
  elements: Elements,
  index: number,
  macro: string,
  attribute: string,
): unknown {
  const perFrame = elements.PerFrameFunctionalGroupsSequence;
  const groups = [
    Array.isArray(perFrame) ? firstItem(perFrame[index]) : undefined,
    firstItem(elements.SharedFunctionalGroupsSequence),
  ];
  for (const group of groups) {
    const value = firstItem(group?.[macro])?.[attribute];
    if (value !== undefined && value !== null && value !== '') return value;
  }
  return elements[attribute];
}

/** Rescale Slope/Intercept of frame `index` (PS3.3 §C.11.1.1.2, §C.7.6.16.2.9). */
export function frameRescale(elements: Elements, index: number): ModalityRescale {
  const get = (a: string) =>
    numberOf(frameAttribute(elements, index, 'PixelValueTransformationSequence', a));
  const slope = get('RescaleSlope');
  return {
    slope: slope === undefined || slope === 0 ? 1 : slope,
    intercept: get('RescaleIntercept') ?? 0,
  };
}

function voiFunction(value: unknown): VOILUTFunction {
  const text = typeof value === 'string' ? value.trim().toUpperCase() : '';
  return text === 'LINEAR_EXACT' || text === 'SIGMOID' ? text : 'LINEAR';
}

/**
 * The first window of frame `index` (Window Center/Width, PS3.3 §C.11.2.1.2; Frame VOI LUT,
 * §C.7.6.16.2.10), or undefined when there is none or its width is not valid for its function.
 */
export function frameWindow(elements: Elements, index: number): RenderWindow | undefined {
  const get = (a: string) => frameAttribute(elements, index, 'FrameVOILUTSequence', a);
  const center = numberOf(get('WindowCenter'));
  const width = numberOf(get('WindowWidth'));
  if (center === undefined || width === undefined) return undefined;
  const fn = voiFunction(get('VOILUTFunction'));
  return width >= (fn === 'LINEAR' ? 1 : Number.MIN_VALUE)
    ? { center, width, function: fn }
    : undefined;
}

/** `window` (on modality values) as a window on stored values with the same output. */
export function storedValueWindow(window: RenderWindow, rescale: ModalityRescale): StoredWindow {
  const { slope: s, intercept: b } = rescale;
  const { center: c, width: w } = window;
  switch (window.function ?? 'LINEAR') {
    case 'LINEAR': {
      // ((x_m − (c − ½)) / (w − 1) + ½): c − ½ ↦ (c − ½ − b)/s, w − 1 ↦ (w − 1)/s. dcmjs-imaging
      // treats width 1 as a threshold rising with x; a negative slope needs it falling.
      const width = w === 1 && s < 0 ? 1 - 1e-9 : (w - 1) / s + 1;
      return { center: (c - 0.5 - b) / s + 0.5, width, function: 'LINEAR' };
    }
    case 'LINEAR_EXACT': // ((x_m − c) / w + ½): LINEAR with c′ − ½ = (c − b)/s and w′ − 1 = w/s
      return { center: (c - b) / s + 0.5, width: w / s + 1, function: 'LINEAR' };
    case 'SIGMOID': // 1 / (1 + exp(−4 (x_m − c) / w))
      return { center: (c - b) / s, width: w / s, function: 'SIGMOID' };
  }
}
