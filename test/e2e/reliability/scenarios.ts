/**
 * The disruptions of the reliability suite, each applied once, at a random point of an ingest, to a
 * running services-mode stack (stack.ts), and undone (the process or server started again) before
 * the scenario returns. A disruption returns notes for the results table.
 */
import { open, rm, statfs } from 'node:fs/promises';
import path from 'node:path';
import { expireDeadWorkerLocks } from '../../helpers/bullmq.js';
import { authorizedFetch } from '../../helpers/dicomweb.js';
import { sleep, waitFor } from '../../helpers/processes.js';
import type { Ingest } from './ingest.js';
import { PREFIX, type Stack } from './stack.js';

export interface DisruptionContext {
  stack: Stack;
  ingest: Ingest;
  /** How long a server stays down. */
  outageMs: number;
  /**
   * After a worker kill, wait for BullMQ's own lock expiry and stalled check (up to 90 s) instead
   * of expiring the dead worker's locks at once (see test/helpers/bullmq.ts).
   */
  realStall: boolean;
}

export interface Scenario {
  name: string;
  /** The stack must have its spool on a tmpfs. */
  needsSpoolMount?: boolean;
  disrupt(context: DisruptionContext): Promise<string[]>;
}

const killAndRestart =
  (role: 'gateway' | 'viewer-api'): Scenario['disrupt'] =>
  async ({ stack }) => {
    await stack.processes[role].kill9();
    await stack.start(role);
    return [];
  };

const outage =
  (server: 'redis' | 'postgres' | 's3'): Scenario['disrupt'] =>
  async ({ stack, outageMs }) => {
    await stack[server].stop();
    await sleep(outageMs);
    await stack[server].start();
    return [`down ${outageMs / 1000} s`];
  };

export const SCENARIOS: Scenario[] = [
  { name: 'kill -9 gateway', disrupt: killAndRestart('gateway') },
  {
    name: 'kill -9 worker',
    async disrupt({ stack, realStall }) {
      await stack.processes.worker.kill9();
      const held = realStall
        ? undefined
        : await expireDeadWorkerLocks({ redisUrl: stack.redis.url, prefix: PREFIX });
      await stack.start('worker');
      return held === undefined ? ['real lock expiry'] : [`${held} jobs held by the dead worker`];
    },
  },
  {
    name: 'kill -9 viewer-api',
    async disrupt(context) {
      // A viewer polling QIDO-RS while the archive fills: the kill cuts requests in flight.
      const url = `http://127.0.0.1:${context.stack.httpPort}/dicom-web/studies`;
      let polling = true;
      const poll = (async () => {
        while (polling) {
          await authorizedFetch(url).catch(() => undefined);
          await sleep(20);
        }
      })();
      await sleep(200);
      const notes = await killAndRestart('viewer-api')(context);
      polling = false;
      await poll;
      return notes;
    },
  },
  { name: 'Redis down and back', disrupt: outage('redis') },
  { name: 'PostgreSQL down and back', disrupt: outage('postgres') },
  { name: 'object store (s3rver) down and back', disrupt: outage('s3') },
  {
    name: 'spool disk full',
    needsSpoolMount: true,
    async disrupt({ stack, ingest }) {
      // The worker stops draining (as a slow archive would) and the spool's file system is filled
      // up to a little room: receptions then fail with ENOSPC until space comes back.
      const worker = stack.processes.worker;
      worker.child.kill('SIGSTOP');
      const ballast = path.join(stack.spool, 'ballast');
      try {
        const { bavail, bsize } = await statfs(stack.spool);
        const room = 40 * 1024;
        await fill(ballast, Math.max(0, bavail * bsize - room));
        const refusedBefore = refusals(ingest);
        let ended = false;
        void ingest.done.then(() => (ended = true));
        await waitFor(
          'refusals while the spool is full',
          () => ended || refusals(ingest) > refusedBefore + 5,
          {
            timeoutMs: 30_000,
            intervalMs: 20,
          },
        );
      } finally {
        await rm(ballast, { force: true });
        worker.child.kill('SIGCONT');
      }
      return [`${refusals(ingest)} refused while full`];
    },
  },
];

function refusals(ingest: Ingest): number {
  return ingest.results().filter((r) => r.status && r.status !== 'Success').length;
}

/** Writes `bytes` of zeros (tmpfs has no fallocate-without-writing shortcut worth relying on). */
async function fill(file: string, bytes: number): Promise<void> {
  const handle = await open(file, 'w');
  try {
    const chunk = Buffer.alloc(1024 * 1024);
    for (let left = bytes; left > 0; left -= chunk.length) {
      await handle.write(chunk, 0, Math.min(chunk.length, left)).catch(() => undefined);
    }
  } finally {
    await handle.close();
  }
}
