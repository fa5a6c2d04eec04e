/**
 * The images of a series as one scrollable stack: every frame of every instance, instances in
 * InstanceNumber order (the QIDO-RS order), frames 1…NumberOfFrames within each.
 */
import { number, value } from '../dicom-json.js';

export function stackOf(StudyInstanceUID, SeriesInstanceUID, instances) {
  const positions = [];
  instances.forEach((dataset, instanceIndex) => {
    const frames = Math.max(1, number(dataset, 'NumberOfFrames') ?? 1);
    const instance = {
      StudyInstanceUID,
      SeriesInstanceUID,
      SOPInstanceUID: value(dataset, 'SOPInstanceUID'),
    };
    for (let frame = 1; frame <= frames; frame++) {
      positions.push({ instance, instanceIndex, frame, frames });
    }
  });
  return { positions, instanceCount: instances.length };
}

/** "Image 2 of 3 · frame 4 of 10" (frames only for multi-frame instances). */
export function describePosition(stack, index) {
  const p = stack.positions[index];
  if (!p) return '';
  const image = `Image ${p.instanceIndex + 1} of ${stack.instanceCount}`;
  return p.frames > 1 ? `${image} · frame ${p.frame} of ${p.frames}` : image;
}
