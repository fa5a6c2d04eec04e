/**
 * Rendering off the event loop: a fixed pool of worker threads (render-thread.ts) that decode and
 * encode rendered and thumbnail images, so that a burst of thumbnails cannot stall QIDO and WADO
 * answers on the main thread. Admission is bounded: at most `threads` jobs run and `maxQueued` wait;
 * beyond that render() throws LightboxError 'Busy' at once (viewer-api answers 503 with
 * Retry-After), before the object is even read from the store.
 */
import type { Worker } from 'node:worker_threads';
import { LightboxError } from '../errors.js';
import { startModuleThread } from '../worker-thread.js';
import { RenderError, type RenderErrorCode } from './errors.js';
import type { ThumbnailOptions } from './render-frame.js';
import type { RenderedImage, RenderLimits, RenderOptions } from './render-options.js';

export type RenderJob = { bytes: Uint8Array; limits?: RenderLimits } & (
  | { kind: 'frame'; frameNumber: number; options: RenderOptions }
  | { kind: 'thumbnail'; frameNumber?: number; options: ThumbnailOptions }
);

export type RenderReply =
  | { id: number; ok: true; contentType: RenderedImage['contentType']; body: Uint8Array }
  | { id: number; ok: false; name?: string; code?: string; message?: string };

export interface RenderPoolOptions {
  /** Rendering threads (each holds one decoded object at a time). */
  threads: number;
  /** Jobs admitted beyond the running ones; more are refused with 'Busy'. */
  maxQueued: number;
}

/** A job without its bytes yet: `load` reads the object once the job has been admitted. */
export type RenderRequest = Omit<RenderJob, 'bytes'> & { load: () => Promise<Buffer> };

interface Waiting {
  job: RenderJob;
  resolve: (image: RenderedImage) => void;
  reject: (error: Error) => void;
}

interface Thread {
  worker: Worker;
  current?: Waiting & { id: number };
}

export class RenderPool {
  private readonly threads: Thread[] = [];
  private readonly queue: Waiting[] = [];
  private admitted = 0;
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: RenderPoolOptions) {}

  /** Jobs admitted and not finished (running, queued, or still loading their object). */
  get inFlight(): number {
    return this.admitted;
  }

  /**
   * Renders `request` on a thread. Throws 'Busy' (503) when threads + maxQueued jobs are already
   * admitted; RenderError as the engine raised it; 'Internal' if a thread died under the job.
   */
  async render(request: RenderRequest): Promise<RenderedImage> {
    if (this.closed) throw new LightboxError('Busy', 'the rendering pool is closed');
    if (this.admitted >= this.options.threads + this.options.maxQueued) {
      throw new LightboxError('Busy', 'too many images being rendered; try again shortly');
    }
    this.admitted++;
    try {
      const { load, ...rest } = request;
      const bytes = await load();
      return await new Promise<RenderedImage>((resolve, reject) => {
        this.queue.push({ job: { ...rest, bytes } as RenderJob, resolve, reject });
        this.dispatch();
      });
    } finally {
      this.admitted--;
    }
  }

  /** Terminates the threads; queued jobs fail with 'Busy'. */
  async close(): Promise<void> {
    this.closed = true;
    for (const waiting of this.queue.splice(0)) {
      waiting.reject(new LightboxError('Busy', 'the rendering pool is closed'));
    }
    await Promise.all(this.threads.splice(0).map((t) => t.worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0 && !this.closed) {
      let thread = this.threads.find((t) => t.current === undefined);
      if (!thread && this.threads.length < this.options.threads) thread = this.spawn();
      if (!thread) return;
      const waiting = this.queue.shift()!;
      const id = this.nextId++;
      thread.current = { ...waiting, id };
      const { bytes } = waiting.job;
      // The object's bytes move to the thread (no copy) when the Buffer owns its ArrayBuffer.
      const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
      thread.worker.postMessage({ ...waiting.job, id }, whole ? [bytes.buffer as ArrayBuffer] : []);
    }
  }

  private spawn(): Thread {
    const worker = startModuleThread('render-thread', import.meta.url, undefined);
    worker.unref(); // an idle pool never keeps the process alive
    const thread: Thread = { worker };
    this.threads.push(thread);
    worker.on('message', (reply: RenderReply) => {
      const current = thread.current;
      if (!current || current.id !== reply.id) return;
      thread.current = undefined;
      if (reply.ok) {
        current.resolve({
          contentType: reply.contentType,
          body: Buffer.from(reply.body.buffer, reply.body.byteOffset, reply.body.byteLength),
        });
      } else current.reject(replyError(reply));
      this.dispatch();
    });
    const fail = (error: Error) => {
      const index = this.threads.indexOf(thread);
      if (index >= 0) this.threads.splice(index, 1);
      thread.current?.reject(
        new LightboxError('Internal', 'a rendering thread failed', { cause: error }),
      );
      thread.current = undefined;
      this.dispatch(); // a fresh thread takes the queue over
    };
    worker.once('error', fail);
    worker.once('exit', (code) => {
      if (!this.closed) fail(new Error(`rendering thread exited with ${code}`));
    });
    return thread;
  }
}

/** The thread's error as the engine's own type (RenderError keeps its PS3.18 status). */
function replyError(reply: RenderReply & { ok: false }): Error {
  if (reply.name === 'RenderError' && reply.code) {
    return new RenderError(reply.code as RenderErrorCode, reply.message ?? 'rendering failed');
  }
  return new LightboxError('Internal', 'rendering failed');
}
