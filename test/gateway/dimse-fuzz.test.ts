/**
 * Property-based fuzzing of the DIMSE boundary (fast-check), on a gateway in this process (real
 * spool, in-process queue): whole sessions are generated, A-ASSOCIATE-RQ variations (AE titles of
 * any bytes, 0–4 presentation contexts with odd and even ids, unknown or empty syntaxes, any maximum
 * PDU length), then C-ECHO and C-STORE requests cut into fragmented PDVs grouped into P-DATA-TF PDUs,
 * some of them corrupted (PDV or PDU length, context id, message control header), ended by a release,
 * an abort, or nothing, the byte stream cut anywhere and delivered in random chunks.
 *
 * After each session the gateway must have raised nothing (no uncaught exception or rejection),
 * hold no association once the peer is gone, and still answer a C-ECHO. At the end nothing is left
 * in incoming/ and every file in ready/ is a complete instance that was sent in full.
 *
 * Bounded in time (test/helpers/fuzz.ts): about 15 s here, LIGHTBOX_FUZZ_SECONDS for longer runs.
 */
import test from 'ava';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { extractIndexedAttributes } from '../../core/dicom/attributes.js';
import { readPart10Header } from '../../core/dicom/part10-header.js';
import { datasetOf } from '../e2e/archive.js';
import { fuzzBudget } from '../helpers/fuzz.js';
import { startGatewayFixture } from '../helpers/gateway-fixture.js';
import { waitFor } from '../helpers/processes.js';
import {
  abortPDU,
  associateRQ,
  cEchoRQ,
  commandSet,
  connectRaw,
  ImplicitVRLittleEndian,
  pdu,
  PDU,
  releaseRQ,
  VerificationSOPClass,
} from '../helpers/raw-dimse.js';
import {
  CTImageStorage,
  encodeInstance,
  ExplicitVRLittleEndian,
  makeUID,
} from '../helpers/synthetic.js';

const STUDY = makeUID();
/** Every data set sent, by SOPInstanceUID. */
const sentDatasets = new Map<string, Buffer>();
const SERIES = makeUID();

const uidLike = fc.oneof(
  fc.constantFrom(
    VerificationSOPClass,
    CTImageStorage,
    ImplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    '1.2.840.10008.1.2.4.50',
    '',
  ),
  fc.string({ maxLength: 80 }),
  fc.stringMatching(/^[0-9.]{1,70}$/),
);
const context = fc.record({
  id: fc.oneof(fc.constantFrom(1, 3, 5), fc.integer({ min: 0, max: 255 })),
  abstractSyntax: uidLike,
  transferSyntaxes: fc.array(uidLike, { maxLength: 3 }),
});
const aeTitle = fc.oneof(fc.constantFrom('LIGHTBOX', 'RAWSCU'), fc.string({ maxLength: 20 }));

/** A-ASSOCIATE-RQ: well formed with odd values, or a well-formed one with bytes overwritten. */
const associate = fc.oneof(
  fc
    .record({
      called: fc.oneof(fc.constant('LIGHTBOX'), aeTitle),
      calling: aeTitle,
      contexts: fc.array(context, { maxLength: 4 }),
      maxPduLength: fc.constantFrom(0, 1, 4096, 16_384, 0x7fffffff, 0xffffffff),
    })
    .map((r) => {
      const maxLength = Buffer.alloc(4);
      maxLength.writeUInt32BE(r.maxPduLength >>> 0);
      const contexts = [
        { id: 1, abstractSyntax: CTImageStorage, transferSyntaxes: [ExplicitVRLittleEndian] },
        ...r.contexts,
      ];
      const rq = associateRQ({ called: r.called, calling: r.calling, contexts });
      // The maximum length item (0x51) is the last 8 bytes before the implementation class item.
      const at = rq.indexOf(Buffer.from([0x51, 0, 0, 4]));
      if (at > 0) maxLength.copy(rq, at + 4);
      return rq;
    }),
  fc
    .tuple(
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 6,
      }),
    )
    .map(([flips]) => {
      const rq = associateRQ({
        contexts: [
          { id: 1, abstractSyntax: CTImageStorage, transferSyntaxes: [ExplicitVRLittleEndian] },
        ],
      });
      for (const [at, value] of flips) rq[at % rq.length] = value;
      return rq;
    }),
  fc
    .tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.uint8Array({ maxLength: 300 }))
    .map(([length, body]) => pdu(PDU.AssociateRQ, Buffer.from(body), length)),
);

interface Fragment {
  command: boolean;
  last: boolean;
  value: Buffer;
}

/** A C-ECHO or C-STORE cut into PDV fragments (command fragments first, then data set). */
const message = fc.oneof(
  fc.constant({ kind: 'echo' as const }),
  fc.record({ kind: fc.constant('store' as const), mismatch: fc.boolean() }),
);

function fragments(
  kind: 'echo' | 'store',
  mismatch: boolean,
  cuts: number[],
  id: number,
): { pdvs: Fragment[]; SOPInstanceUID?: string; dataset?: Buffer } {
  const split = (bytes: Buffer, command: boolean): Fragment[] => {
    const points = [...new Set(cuts.map((c) => c % Math.max(1, bytes.length)))]
      .filter((p) => p > 0)
      .sort((a, b) => a - b);
    const parts: Fragment[] = [];
    let from = 0;
    for (const p of [...points, bytes.length]) {
      parts.push({ command, last: p === bytes.length, value: bytes.subarray(from, p) });
      from = p;
    }
    return parts;
  };
  if (kind === 'echo') {
    return {
      pdvs: split(
        commandSet({
          AffectedSOPClassUID: VerificationSOPClass,
          CommandField: 0x0030,
          MessageID: id,
          hasDataset: false,
        }),
        true,
      ),
    };
  }
  const SOPInstanceUID = makeUID();
  const dataset = datasetOf(
    encodeInstance({
      StudyInstanceUID: STUDY,
      SeriesInstanceUID: SERIES,
      SOPInstanceUID,
      Rows: 8,
      Columns: 8,
    }),
  );
  const command = commandSet({
    AffectedSOPClassUID: CTImageStorage,
    CommandField: 0x0001,
    MessageID: id,
    AffectedSOPInstanceUID: mismatch ? makeUID() : SOPInstanceUID,
    hasDataset: true,
  });
  return { pdvs: [...split(command, true), ...split(dataset, false)], SOPInstanceUID, dataset };
}

function encodePdv(contextId: number, f: Fragment, lengthDelta: number, control?: number): Buffer {
  const header = Buffer.alloc(6);
  header.writeUInt32BE(Math.max(0, f.value.length + 2 + lengthDelta), 0);
  header.writeUInt8(contextId, 4);
  header.writeUInt8(control ?? (f.command ? 1 : 0) | (f.last ? 2 : 0), 5);
  return Buffer.concat([header, f.value]);
}

const corruption = fc.option(
  fc.record({
    target: fc.nat(),
    what: fc.constantFrom('pdv-length', 'pdu-length', 'context', 'control'),
    delta: fc.integer({ min: -8, max: 0x10000 }),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  { freq: 2 },
);

const session = fc.record({
  associate,
  messages: fc.array(
    fc.record({
      message,
      cuts: fc.array(fc.nat(), { maxLength: 4 }),
      perPdu: fc.integer({ min: 1, max: 4 }),
    }),
    { maxLength: 3 },
  ),
  corruption,
  ending: fc.constantFrom('release', 'abort', 'none'),
  cutAt: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { freq: 3 }),
  chunks: fc.array(fc.integer({ min: 1, max: 4096 }), { minLength: 1, maxLength: 8 }),
});

type Session = typeof session extends fc.Arbitrary<infer T> ? T : never;

/** The bytes of a session, and the SOP Instance UIDs sent whole and intact (those may be stored). */
function encode(s: Session): { bytes: Buffer; intact: string[] } {
  const parts: Buffer[] = [s.associate];
  const intact: string[] = [];
  let pduIndex = 0;
  s.messages.forEach((m, i) => {
    const { pdvs, SOPInstanceUID, dataset } = fragments(
      m.message.kind,
      'mismatch' in m.message && m.message.mismatch,
      m.cuts,
      i + 1,
    );
    let corrupted = false;
    for (let at = 0; at < pdvs.length; at += m.perPdu) {
      const c = s.corruption && s.corruption.target % 8 === pduIndex ? s.corruption : undefined;
      const encoded = pdvs
        .slice(at, at + m.perPdu)
        .map((f, j) =>
          encodePdv(
            c?.what === 'context' && j === 0 ? c.value : 1,
            f,
            c?.what === 'pdv-length' && j === 0 ? c.delta : 0,
            c?.what === 'control' && j === 0 ? c.value : undefined,
          ),
        );
      const body = Buffer.concat(encoded);
      parts.push(pdu(PDU.PDataTF, body, body.length + (c?.what === 'pdu-length' ? c.delta : 0)));
      if (c) corrupted = true;
      pduIndex++;
    }
    if (SOPInstanceUID && !corrupted) intact.push(SOPInstanceUID);
    if (SOPInstanceUID) sentDatasets.set(SOPInstanceUID, dataset!);
  });
  if (s.ending === 'release') parts.push(releaseRQ());
  if (s.ending === 'abort') parts.push(abortPDU());
  let bytes = Buffer.concat(parts);
  if (s.cutAt !== null) bytes = bytes.subarray(0, Math.floor(s.cutAt * bytes.length));
  return { bytes, intact };
}

test('generated DIMSE sessions never crash or wedge the gateway, and leave nothing half-written', async (t) => {
  const budget = fuzzBudget(15);
  t.timeout(budget.timeoutMs + 30_000);
  const { spool, gateway } = await startGatewayFixture(t, {
    fsync: false,
    gateway: {
      maxPduLength: 16_384,
      pduTimeoutMs: 1_000,
      associationTimeoutMs: 1_000,
      maxAssociations: 64,
    },
  });

  const raised: unknown[] = [];
  const onError = (error: unknown) => raised.push(error);
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  t.teardown(() => {
    process.off('uncaughtException', onError);
    process.off('unhandledRejection', onError);
  });

  const mayBeStored = new Set<string>();
  let sessions = 0;
  await fc.assert(
    fc.asyncProperty(session, async (s) => {
      sessions++;
      const { bytes, intact } = encode(s);
      for (const uid of intact) mayBeStored.add(uid);
      const peer = await connectRaw(gateway.port);
      let at = 0;
      for (let i = 0; at < bytes.length; i++) {
        const size = s.chunks[i % s.chunks.length];
        await peer.send(bytes.subarray(at, at + size));
        at += size;
      }
      // Let the gateway answer (or close), then hang up as a vanished peer would.
      await Promise.race([peer.closed, new Promise((r) => setTimeout(r, 20))]);
      peer.destroy();
      await waitFor('the association to be released', () => gateway.associations() === 0, {
        timeoutMs: 10_000,
        intervalMs: 2,
      });
      if (raised.length > 0) throw raised[0];
      if (sessions % 25 === 0) {
        const echo = await connectRaw(gateway.port);
        await echo.send(associateRQ());
        await echo.waitFor((types) => types.includes(PDU.AssociateAC), 3_000);
        await echo.send(cEchoRQ());
        await echo.waitFor((types) => types.filter((x) => x === PDU.PDataTF).length > 0, 3_000);
        echo.destroy();
      }
    }),
    { ...budget, endOnFailure: true },
  );
  await waitFor(
    'incoming/ to empty',
    async () => (await readdir(spool.incomingDirectory)).length === 0,
    { timeoutMs: 10_000 },
  );
  // What is kept passed the header check, is an instance that was sent, and is byte for byte what
  // was sent when its messages reached the gateway intact. (A corrupted message may legitimately be
  // kept: a control byte turned into "last fragment" ends a data set at an element boundary.)
  for (const name of await readdir(spool.readyDirectory)) {
    const file = await readFile(path.join(spool.readyDirectory, name));
    t.is(
      name,
      `${createHash('sha256').update(file).digest('hex')}.dcm`,
      'ready/ holds whole files',
    );
    const header = await readPart10Header(path.join(spool.readyDirectory, name));
    const uid = extractIndexedAttributes(header).SOPInstanceUID;
    t.true(sentDatasets.has(uid), 'an instance that was sent');
    if (mayBeStored.has(uid))
      t.true(datasetOf(file).equals(sentDatasets.get(uid)!), 'the data set sent');
  }
  t.log(`${sessions} sessions, ${(await readdir(spool.readyDirectory)).length} instances stored`);
  t.deepEqual(raised, []);
});
