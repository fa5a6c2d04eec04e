/**
 * The window conversion that lets dcmjs-imaging work on stored values (core/imaging/voi-window.ts):
 * the converted window on stored values gives the PS3.3 §C.11.2.1 output of the original window on
 * modality values, for LINEAR, LINEAR_EXACT and SIGMOID and positive or negative slopes. And the
 * per-frame attributes of enhanced multi-frame objects (PS3.3 §C.7.6.16).
 */
import test from 'ava';
import {
  frameRescale,
  frameWindow,
  storedValueWindow,
  type StoredWindow,
} from '../../../core/imaging/voi-window.js';
import type { RenderWindow } from '../../../core/imaging/render-options.js';
import { linear, linearExact, sigmoid } from './reference.js';

/** What dcmjs-imaging computes for a stored value x with a StoredWindow (before truncation). */
function library(x: number, w: StoredWindow): number {
  if (w.function === 'SIGMOID') return sigmoid(x, w.center, w.width);
  if (w.width === 1) return x < w.center - 0.5 ? 0 : 255; // its threshold case
  return linear(x, w.center, w.width);
}

const reference: Record<string, (x: number, c: number, w: number) => number> = {
  LINEAR: linear,
  LINEAR_EXACT: linearExact,
  SIGMOID: sigmoid,
};

test('stored-value windows reproduce modality-value windows', (t) => {
  const windows: RenderWindow[] = [
    { center: 40, width: 400, function: 'LINEAR' },
    { center: 40, width: 1, function: 'LINEAR' },
    { center: -600, width: 1500, function: 'LINEAR_EXACT' },
    { center: 0.37, width: 0.25, function: 'LINEAR_EXACT' },
    { center: 100, width: 300, function: 'SIGMOID' },
  ];
  const rescales = [
    { slope: 1, intercept: -1024 },
    { slope: 0.5, intercept: -100 },
    { slope: 0.001, intercept: 0 },
    { slope: -2, intercept: 50 },
  ];
  for (const window of windows) {
    for (const rescale of rescales) {
      const stored = storedValueWindow(window, rescale);
      for (let x = -3000; x <= 3000; x += 37) {
        const want = reference[window.function ?? 'LINEAR'](
          x * rescale.slope + rescale.intercept,
          window.center,
          window.width,
        );
        const got = library(x, stored);
        t.true(
          Math.abs(got - want) < 1e-6,
          `${JSON.stringify({ window, rescale, x })}: ${got} ≠ ${want}`,
        );
      }
    }
  }
});

test('per-frame functional groups override shared ones, which override the top level', (t) => {
  const elements = {
    RescaleSlope: 3,
    WindowCenter: [10, 20],
    WindowWidth: [100, 200],
    SharedFunctionalGroupsSequence: [
      { PixelValueTransformationSequence: [{ RescaleSlope: 2, RescaleIntercept: -5 }] },
    ],
    PerFrameFunctionalGroupsSequence: [
      {},
      { FrameVOILUTSequence: [{ WindowCenter: 7, WindowWidth: 70, VOILUTFunction: 'SIGMOID' }] },
    ],
  };
  t.deepEqual(frameRescale(elements, 0), { slope: 2, intercept: -5 });
  t.deepEqual(frameWindow(elements, 0), { center: 10, width: 100, function: 'LINEAR' });
  t.deepEqual(frameWindow(elements, 1), { center: 7, width: 70, function: 'SIGMOID' });
  t.deepEqual(frameRescale({}, 0), { slope: 1, intercept: 0 });
  t.is(frameWindow({ WindowCenter: 10, WindowWidth: 0.5 }, 0), undefined, 'LINEAR needs width ≥ 1');
});
