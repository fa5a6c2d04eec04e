/**
 * Window (VOI LUT, PS3.3 §C.11.2) for the rendered resource: center and width in the modality's
 * output units (after Rescale Slope/Intercept: Hounsfield units for CT). Presets, the starting
 * window for a drag, and how a drag changes it.
 */
import { number, value } from '../dicom-json.js';

/** Common CT windows (center/width in HU). */
const CT_PRESETS = [
  { name: 'Soft tissue', center: 40, width: 400 },
  { name: 'Lung', center: -600, width: 1500 },
  { name: 'Bone', center: 400, width: 1800 },
  { name: 'Brain', center: 40, width: 80 },
];

const COLOR = /^(RGB|YBR|PALETTE)/;

/** True when the instance is colour (window/level does not apply). */
export function isColor(metadata) {
  return COLOR.test(String(value(metadata, 'PhotometricInterpretation') ?? ''));
}

/**
 * The window the instance asks for (its first WindowCenter/WindowWidth), or else the whole range
 * its stored bits can hold, rescaled: where a drag starts from.
 */
export function initialWindow(metadata) {
  const center = number(metadata, 'WindowCenter');
  const width = number(metadata, 'WindowWidth');
  if (center !== undefined && width !== undefined && width >= 1) return { center, width };
  if (value(metadata, 'Modality') === 'CT') return { center: 40, width: 400 };
  const bits = number(metadata, 'BitsStored') ?? 8;
  const signed = number(metadata, 'PixelRepresentation') === 1;
  const slope = number(metadata, 'RescaleSlope') ?? 1;
  const intercept = number(metadata, 'RescaleIntercept') ?? 0;
  const low = signed ? -(2 ** (bits - 1)) : 0;
  const high = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  const a = low * slope + intercept;
  const b = high * slope + intercept;
  return { center: (a + b) / 2, width: Math.max(1, Math.abs(b - a)) };
}

/** The presets offered for an instance: CT windows for CT, none otherwise (Default is always there). */
export function presetsFor(metadata) {
  return value(metadata, 'Modality') === 'CT' ? CT_PRESETS : [];
}

/**
 * A drag of (dx, dy) pixels from `start`: right widens the window (less contrast), down raises the
 * center (darker). Sensitivity scales with the width so that narrow and wide windows both move.
 */
export function dragWindow(start, dx, dy) {
  const step = Math.max(start.width / 256, 0.01);
  return {
    center: start.center + dy * step,
    width: Math.max(1, start.width + dx * step * 2),
  };
}

export function describeWindow(window) {
  if (!window) return 'Window: as stored';
  return `Window: level ${Math.round(window.center)}, width ${Math.round(window.width)}`;
}
