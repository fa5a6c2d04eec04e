/**
 * A rendering thread of the RenderPool (render-pool.ts): decodes and encodes one image at a time with
 * dcmjs-imaging and sharp, off the event loop that answers QIDO and WADO. Messages: a RenderJob with
 * its id in, the RenderedImage (body transferred, not copied) or the error's name/code/message out.
 */
import { parentPort } from 'node:worker_threads';
import { initializeDecoders } from './dicom-image.js';
import type { RenderJob, RenderReply } from './render-pool.js';
import { renderFrame, renderThumbnail } from './render-frame.js';
import type { RenderedImage } from './render-options.js';

/** `bytes` as a Buffer that owns its whole ArrayBuffer, so that it can be transferred. */
function transferable(bytes: Buffer): Buffer {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  return whole ? bytes : Buffer.from(Uint8Array.prototype.slice.call(bytes));
}

async function run(job: RenderJob): Promise<RenderedImage> {
  const bytes = Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength);
  return job.kind === 'frame'
    ? renderFrame({ bytes, frameNumber: job.frameNumber ?? 1 }, job.options, job.limits)
    : renderThumbnail({ bytes, frameNumber: job.frameNumber }, job.options, job.limits);
}

const port = parentPort;
if (port) {
  void initializeDecoders().catch(() => undefined); // retried by the first job if it failed
  port.on('message', (job: RenderJob & { id: number }) => {
    run(job).then(
      (image) => {
        const body = transferable(image.body);
        const reply: RenderReply = { id: job.id, ok: true, contentType: image.contentType, body };
        port.postMessage(reply, [body.buffer as ArrayBuffer]);
      },
      (error: unknown) => {
        const { name, code, message } = error as { name?: string; code?: string; message?: string };
        const reply: RenderReply = { id: job.id, ok: false, name, code, message };
        port.postMessage(reply);
      },
    );
  });
}
