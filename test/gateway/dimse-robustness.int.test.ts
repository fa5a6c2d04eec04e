/**
 * DIMSE robustness of the gateway as production runs it (gateway/main.ts, a process of its own whose
 * RSS is read from /proc): random bytes, malformed and truncated PDUs, oversize lengths, association
 * floods past maxAssociations, slow senders (one byte every 50 ms), aborts in the middle of a data
 * set. In every case the offending connection is closed (at once, or by the association or PDU
 * timeout), the gateway keeps running, an association already open keeps storing, memory stays
 * bounded, and nothing half-written stays in the spool.
 *
 * Timeouts are shortened through the config file (2 s instead of 60 s); maxAssociations is 6.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { datasetOf } from '../e2e/archive.js';
import { echoscu, freePort, storescu } from '../helpers/dcmtk.js';
import {
  spawnLightbox,
  spawnStorescu,
  waitFor,
  waitForListening,
  type SpawnedProcess,
} from '../helpers/processes.js';
import {
  abortPDU,
  associateItems,
  associateRQ,
  closesWithin,
  commandSet,
  connectRaw,
  item,
  pdu,
  PDU,
  pDataTF,
  pdv,
  type RawPeer,
} from '../helpers/raw-dimse.js';
import { spoolEntries } from '../helpers/spool.js';
import {
  CTImageStorage,
  encodeInstance,
  ExplicitVRLittleEndian,
  makeUID,
} from '../helpers/synthetic.js';
import { requireTool } from '../helpers/tools.js';
import { writeStudy } from '../e2e/archive.js';

const TIMEOUT_MS = 2_000;
const MAX_ASSOCIATIONS = 6;
const ctx = {} as {
  work: string;
  spool: string;
  port: number;
  gateway: SpawnedProcess;
  rssBefore: number;
};

async function rss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

async function echoWorks(): Promise<boolean> {
  const result = await echoscu(ctx.port);
  return result.code === 0;
}

/** An association for CT Image Storage (explicit VR little endian), accepted. */
async function associated(): Promise<RawPeer> {
  const peer = await connectRaw(ctx.port);
  await peer.send(
    associateRQ({
      contexts: [
        { id: 1, abstractSyntax: CTImageStorage, transferSyntaxes: [ExplicitVRLittleEndian] },
      ],
    }),
  );
  await peer.waitFor((types) => types.includes(PDU.AssociateAC));
  return peer;
}

/** The C-STORE-RQ command PDU and the data set of a fresh instance. */
function cStore(): { command: Buffer; dataset: Buffer; SOPInstanceUID: string } {
  const SOPInstanceUID = makeUID();
  const file = encodeInstance({
    StudyInstanceUID: makeUID(),
    SeriesInstanceUID: makeUID(),
    SOPInstanceUID,
  });
  const command = pDataTF(
    pdv(
      1,
      true,
      true,
      commandSet({
        AffectedSOPClassUID: CTImageStorage,
        CommandField: 0x0001,
        MessageID: 1,
        AffectedSOPInstanceUID: SOPInstanceUID,
        hasDataset: true,
      }),
    ),
  );
  return { command, dataset: datasetOf(file), SOPInstanceUID };
}

if ((await requireTool(test, 'storescu')) && (await requireTool(test, 'echoscu'))) {
  test.before(async () => {
    ctx.work = await mkdtemp(path.join(os.tmpdir(), 'lightbox-robustness-'));
    ctx.spool = path.join(ctx.work, 'spool');
    ctx.port = await freePort();
    const config = path.join(ctx.work, 'lightbox.json');
    await writeFile(
      config,
      JSON.stringify({
        gateway: {
          pduTimeoutMs: TIMEOUT_MS,
          associationTimeoutMs: TIMEOUT_MS,
          maxPduLength: 16_384,
        },
      }),
    );
    ctx.gateway = spawnLightbox('gateway', {
      LIGHTBOX_CONFIG: config,
      SPOOL_DIR: ctx.spool,
      DICOM_PORT: String(ctx.port),
      DICOM_MAX_ASSOCIATIONS: String(MAX_ASSOCIATIONS),
      LOG_LEVEL: 'error',
    });
    await waitForListening(ctx.gateway, ctx.port, 110_000);
    // Warm up (code paths compiled, buffers pooled) before the RSS reference is taken.
    const study = await writeStudy(ctx.work, 40, 'warm');
    const warm = await storescu(
      ctx.port,
      study.map((i) => i.path),
    );
    if (warm.code !== 0) throw new Error(warm.stdout + warm.stderr);
    ctx.rssBefore = await rss(ctx.gateway.pid);
  });
  test.after.always(async () => {
    await ctx.gateway?.stop(5_000);
    if (ctx.work) await rm(ctx.work, { recursive: true, force: true });
  });

  test.serial(
    'random bytes and malformed PDUs: each connection closed, the gateway answers C-ECHO',
    async (t) => {
      const fixed = associateRQ().subarray(6, 74);
      const cases: Record<string, Buffer> = {
        'unknown PDU type': pdu(0x09, Buffer.alloc(10)),
        'P-DATA-TF before any association': pDataTF(pdv(1, true, true, Buffer.alloc(20))),
        'A-ASSOCIATE-RQ whose items overrun it': pdu(
          PDU.AssociateRQ,
          Buffer.concat([fixed, item(0x20, Buffer.alloc(4), 500)]),
        ),
        'A-ASSOCIATE-RQ with a zero-length body': pdu(PDU.AssociateRQ, Buffer.alloc(0)),
        'A-ASSOCIATE-RQ cut inside its fixed fields': pdu(PDU.AssociateRQ, fixed.subarray(0, 30)),
        'A-ASSOCIATE-RQ with a presentation context of 2 bytes': pdu(
          PDU.AssociateRQ,
          Buffer.concat([
            fixed,
            item(0x10, Buffer.from('1.2.840.10008.3.1.1.1')),
            item(0x20, Buffer.from([1, 0])),
          ]),
        ),
        // dcmjs-dimse renumbers a context whose id is not above every earlier one (1, 253, 1, 252 →
        // 1, 253, 255, 257; a transfer syntax item goes to the context with its raw id, if any): its
        // A-ASSOCIATE-AC then cannot be written (one byte per id). Found by dimse-fuzz.test.ts.
        'presentation context ids 1, 253, 1, 252': associateRQ({
          contexts: [
            { id: 1, abstractSyntax: CTImageStorage, transferSyntaxes: [ExplicitVRLittleEndian] },
            { id: 253, abstractSyntax: CTImageStorage, transferSyntaxes: [ExplicitVRLittleEndian] },
            { id: 1, abstractSyntax: CTImageStorage, transferSyntaxes: [] },
            { id: 252, abstractSyntax: CTImageStorage, transferSyntaxes: [] },
          ],
        }),
        'A-RELEASE-RQ first': pdu(PDU.ReleaseRQ, Buffer.alloc(4)),
        'A-ABORT first': abortPDU(),
        'A-ASSOCIATE-AC sent to the acceptor': pdu(
          PDU.AssociateAC,
          Buffer.concat([fixed, ...associateItems([])]),
        ),
      };
      for (let i = 0; i < 30; i++)
        cases[`random bytes #${i}`] = randomBytes(1 + Math.floor(Math.random() * 4096));
      const stillOpen: string[] = [];
      // A few at a time: past maxAssociations the gateway would close them before reading a byte.
      const entries = Object.entries(cases);
      for (let i = 0; i < entries.length; i += MAX_ASSOCIATIONS - 1) {
        await Promise.all(
          entries.slice(i, i + MAX_ASSOCIATIONS - 1).map(async ([name, bytes]) => {
            const peer = await connectRaw(ctx.port);
            await peer.send(bytes);
            // Closed at once, or (a PDU announced but never completed) by the association timeout.
            if (!(await closesWithin(peer, TIMEOUT_MS + 5_000))) stillOpen.push(name);
            peer.destroy();
          }),
        );
        if (!ctx.gateway.running()) break;
      }
      t.deepEqual(stillOpen, [], 'every offending connection is closed by the gateway');
      t.true(ctx.gateway.running(), ctx.gateway.output());
      t.true(await echoWorks());
    },
  );

  test.serial(
    'truncated PDUs and a slow sender (one byte every 50 ms) are freed by the timeouts',
    async (t) => {
      // A PDU header announcing 200 bytes, then nothing: before any association.
      const truncated = await connectRaw(ctx.port);
      await truncated.send(associateRQ().subarray(0, 40));
      // The same before any PDU header is complete, and one sending A-ASSOCIATE-RQ a byte at a time.
      const silent = await connectRaw(ctx.port);
      const slow = await connectRaw(ctx.port);
      const request = associateRQ();
      let stop = false;
      const dribble = (async () => {
        for (const byte of request) {
          if (stop || slow.isClosed()) return;
          await slow.send(Buffer.from([byte]));
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      // After association: a C-STORE whose data set arrives a byte at a time (pduTimeout).
      const stalled = await associated();
      const store = cStore();
      await stalled.send(store.command);
      await stalled.send(
        pdu(PDU.PDataTF, Buffer.alloc(0), 6 + store.dataset.length).subarray(0, 8),
      );
      const results = await Promise.all(
        [truncated, silent, slow, stalled].map((peer) => closesWithin(peer, TIMEOUT_MS + 8_000)),
      );
      stop = true;
      await dribble;
      t.deepEqual(
        results,
        [true, true, true, true],
        'truncated, silent, slow, stalled: all closed',
      );
      t.true(slow.received().length === 0 || slow.pduTypes().every((p) => p !== PDU.AssociateAC));
      await waitFor(
        'incoming/ empty',
        async () => (await spoolEntries(ctx.spool, 'incoming')).length === 0,
        { timeoutMs: 5_000 },
      );
      t.true(await echoWorks());
    },
  );

  test.serial('oversize lengths are refused before anything is buffered', async (t) => {
    const before = await rss(ctx.gateway.pid);
    const peers = await Promise.all(
      [
        pdu(PDU.AssociateRQ, Buffer.alloc(64), 0x7fffffff),
        pdu(PDU.AssociateRQ, Buffer.alloc(64), 0xffffffff),
      ].map(async (bytes) => {
        const peer = await connectRaw(ctx.port);
        await peer.send(bytes);
        return peer;
      }),
    );
    // After association: P-DATA-TF announcing 4 GiB, and one just over our maximum PDU length.
    for (const length of [0xffffffff, 16_384 + 2048]) {
      const peer = await associated();
      await peer.send(pdu(PDU.PDataTF, Buffer.alloc(1024), length));
      peers.push(peer);
    }
    const closed = await Promise.all(peers.map((p) => closesWithin(p, 3_000)));
    t.deepEqual(closed, [true, true, true, true]);
    const after = await rss(ctx.gateway.pid);
    t.log(`RSS ${(before / 2 ** 20).toFixed(1)} → ${(after / 2 ** 20).toFixed(1)} MiB`);
    t.true(after - before < 32 * 2 ** 20, 'nothing near the announced sizes was allocated');
  });

  test.serial('abort in the middle of a data set: nothing kept, the gateway goes on', async (t) => {
    const uids: string[] = [];
    for (const how of ['A-ABORT', 'connection reset'] as const) {
      const peer = await associated();
      const store = cStore();
      uids.push(store.SOPInstanceUID);
      await peer.send(store.command);
      await peer.send(pDataTF(pdv(1, false, false, store.dataset.subarray(0, 4000))));
      await waitFor(
        'the reception to start',
        async () => (await spoolEntries(ctx.spool, 'incoming')).length > 0,
        { timeoutMs: 5_000 },
      );
      if (how === 'A-ABORT') await peer.send(abortPDU());
      else peer.socket.resetAndDestroy();
      await closesWithin(peer, 5_000);
      peer.destroy();
    }
    await waitFor(
      'incoming/ empty',
      async () => (await spoolEntries(ctx.spool, 'incoming')).length === 0,
      { timeoutMs: 5_000 },
    );
    const ready = await Promise.all(
      (await spoolEntries(ctx.spool, 'ready')).map((name) =>
        readFile(path.join(ctx.spool, 'ready', name), 'latin1'),
      ),
    );
    t.false(
      ready.some((file) => uids.some((uid) => file.includes(uid))),
      'no aborted instance in ready/',
    );
    t.true(await echoWorks());
  });

  test.serial(
    'association flood past maxAssociations: extra connections closed at once, idle ones freed by the timeout, an open association keeps storing',
    async (t) => {
      const dir = path.join(ctx.work, 'flood');
      const { mkdir } = await import('node:fs/promises');
      await mkdir(dir);
      const study = await writeStudy(dir, 200, 'flood');
      const sender = spawnStorescu(
        ctx.port,
        study.map((i) => i.path),
      );
      await waitFor('the sender associated', () => sender.acknowledged().length > 0, {
        timeoutMs: 30_000,
        intervalMs: 5,
      });
      const flood = await Promise.all(
        Array.from({ length: MAX_ASSOCIATIONS + 20 }, () =>
          connectRaw(ctx.port).catch(() => undefined),
        ),
      );
      const peers = flood.filter((p): p is RawPeer => p !== undefined);
      const closedAtOnce = (await Promise.all(peers.map((p) => closesWithin(p, 1_000)))).filter(
        Boolean,
      ).length;
      t.true(
        closedAtOnce >= peers.length - MAX_ASSOCIATIONS,
        `${closedAtOnce} of ${peers.length} closed at once`,
      );
      const allClosed = await Promise.all(peers.map((p) => closesWithin(p, TIMEOUT_MS + 5_000)));
      t.true(allClosed.every(Boolean), 'idle connections freed by the association timeout');
      const result = await sender.done;
      t.is(result.code, 0);
      t.is(sender.acknowledged().length, 200, 'the open association stored every instance');
      t.true(await echoWorks(), 'the slots are free again');
    },
  );

  test.serial('memory stays bounded and nothing half-written remains', async (t) => {
    const after = await rss(ctx.gateway.pid);
    t.log(
      `gateway RSS before the abuse ${(ctx.rssBefore / 2 ** 20).toFixed(1)} MiB, after ${(after / 2 ** 20).toFixed(1)} MiB`,
    );
    t.true(after < ctx.rssBefore + 64 * 2 ** 20);
    t.deepEqual(await spoolEntries(ctx.spool, 'incoming'), []);
    t.true(ctx.gateway.running());
  });
}
