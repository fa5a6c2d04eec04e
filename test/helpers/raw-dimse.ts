/**
 * DICOM upper layer PDUs (PS3.8 §9.3) and DIMSE command sets (PS3.7 §9.3.1) built byte by byte, for
 * tests that must send what no well-behaved SCU would: wrong lengths, fragments, floods, aborts.
 * Plus a raw TCP peer that records what the gateway answers and when it closes the connection.
 */
import net from 'node:net';

export const PDU = {
  AssociateRQ: 0x01,
  AssociateAC: 0x02,
  AssociateRJ: 0x03,
  PDataTF: 0x04,
  ReleaseRQ: 0x05,
  ReleaseRP: 0x06,
  Abort: 0x07,
} as const;

export const VerificationSOPClass = '1.2.840.10008.1.1';
export const ImplicitVRLittleEndian = '1.2.840.10008.1.2';
const ApplicationContext = '1.2.840.10008.3.1.1.1';

export function pdu(type: number, body: Buffer, length = body.length): Buffer {
  const header = Buffer.alloc(6);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(length >>> 0, 2);
  return Buffer.concat([header, body]);
}

/** A variable item (type, reserved, 2-byte length, value), PS3.8 §9.3.2. */
export function item(type: number, value: Buffer, length = value.length): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt8(type, 0);
  header.writeUInt16BE(length & 0xffff, 2);
  return Buffer.concat([header, value]);
}

const ae = (title: string) => Buffer.from(title.padEnd(16, ' ').slice(0, 16), 'latin1');

export interface PresentationContextProposal {
  id: number;
  abstractSyntax: string;
  transferSyntaxes: string[];
}

/** The variable items of an A-ASSOCIATE-RQ (application context, contexts, user information). */
export function associateItems(
  contexts: PresentationContextProposal[],
  maxPduLength = 16_384,
): Buffer[] {
  const maxLength = Buffer.alloc(4);
  maxLength.writeUInt32BE(maxPduLength);
  return [
    item(0x10, Buffer.from(ApplicationContext)),
    ...contexts.map((c) =>
      item(
        0x20,
        Buffer.concat([
          Buffer.from([c.id, 0, 0, 0]),
          item(0x30, Buffer.from(c.abstractSyntax)),
          ...c.transferSyntaxes.map((ts) => item(0x40, Buffer.from(ts))),
        ]),
      ),
    ),
    item(0x50, Buffer.concat([item(0x51, maxLength), item(0x52, Buffer.from('1.2.3.4'))])),
  ];
}

export function associateRQ(
  options: {
    called?: string;
    calling?: string;
    contexts?: PresentationContextProposal[];
    items?: Buffer[];
  } = {},
): Buffer {
  const contexts = options.contexts ?? [
    { id: 1, abstractSyntax: VerificationSOPClass, transferSyntaxes: [ImplicitVRLittleEndian] },
  ];
  const fixed = Buffer.concat([
    Buffer.from([0x00, 0x01, 0x00, 0x00]), // protocol version, reserved
    ae(options.called ?? 'LIGHTBOX'),
    ae(options.calling ?? 'RAWSCU'),
    Buffer.alloc(32),
  ]);
  return pdu(
    PDU.AssociateRQ,
    Buffer.concat([fixed, ...(options.items ?? associateItems(contexts))]),
  );
}

/** One PDV item: length, context id, message control header (bit 0 command, bit 1 last). */
export function pdv(contextId: number, command: boolean, last: boolean, value: Buffer): Buffer {
  const header = Buffer.alloc(6);
  header.writeUInt32BE(value.length + 2, 0);
  header.writeUInt8(contextId, 4);
  header.writeUInt8((command ? 1 : 0) | (last ? 2 : 0), 5);
  return Buffer.concat([header, value]);
}

export const pDataTF = (...pdvs: Buffer[]) => pdu(PDU.PDataTF, Buffer.concat(pdvs));
export const releaseRQ = () => pdu(PDU.ReleaseRQ, Buffer.alloc(4));
export const abortPDU = () => pdu(PDU.Abort, Buffer.alloc(4));

function element(group: number, elementNumber: number, value: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt16LE(group, 0);
  header.writeUInt16LE(elementNumber, 2);
  header.writeUInt32LE(value.length, 4);
  return Buffer.concat([header, value]);
}
const us = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
};
const ui = (uid: string) => Buffer.from(uid.length % 2 ? `${uid}\0` : uid, 'latin1');

/** A DIMSE command set (implicit VR little endian, group length first), PS3.7 §E. */
export function commandSet(fields: {
  AffectedSOPClassUID: string;
  CommandField: number;
  MessageID: number;
  AffectedSOPInstanceUID?: string;
  hasDataset: boolean;
}): Buffer {
  const body = Buffer.concat([
    element(0x0000, 0x0002, ui(fields.AffectedSOPClassUID)),
    element(0x0000, 0x0100, us(fields.CommandField)),
    element(0x0000, 0x0110, us(fields.MessageID)),
    ...(fields.CommandField === 0x0001 ? [element(0x0000, 0x0700, us(0))] : []),
    element(0x0000, 0x0800, us(fields.hasDataset ? 0x0000 : 0x0101)),
    ...(fields.AffectedSOPInstanceUID
      ? [element(0x0000, 0x1000, ui(fields.AffectedSOPInstanceUID))]
      : []),
  ]);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(body.length);
  return Buffer.concat([element(0x0000, 0x0000, length), body]);
}

export const cEchoRQ = (contextId = 1, MessageID = 1) =>
  pDataTF(
    pdv(
      contextId,
      true,
      true,
      commandSet({
        AffectedSOPClassUID: VerificationSOPClass,
        CommandField: 0x0030,
        MessageID,
        hasDataset: false,
      }),
    ),
  );

/** A raw connection: what the peer sent back, and whether (and when) it closed. */
export interface RawPeer {
  socket: net.Socket;
  received(): Buffer;
  /** PDU types received so far, in order (parsed from the byte stream). */
  pduTypes(): number[];
  closed: Promise<void>;
  isClosed(): boolean;
  send(bytes: Buffer): Promise<void>;
  /** Resolves when `predicate` holds for the received PDU types, or rejects after `timeoutMs`. */
  waitFor(predicate: (types: number[]) => boolean, timeoutMs?: number): Promise<void>;
  destroy(): void;
}

export async function connectRaw(port: number): Promise<RawPeer> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  const chunks: Buffer[] = [];
  let isClosed = false;
  const closed = new Promise<void>((resolve) => {
    socket.on('close', () => {
      isClosed = true;
      resolve();
    });
  });
  socket.on('error', () => undefined);
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const received = () => Buffer.concat(chunks);
  const pduTypes = () => {
    const bytes = received();
    const types: number[] = [];
    for (let at = 0; at + 6 <= bytes.length; at += 6 + bytes.readUInt32BE(at + 2)) {
      types.push(bytes[at]);
    }
    return types;
  };
  return {
    socket,
    received,
    pduTypes,
    closed,
    isClosed: () => isClosed,
    send: (bytes) =>
      new Promise<void>((resolve) => {
        if (isClosed || socket.destroyed) return resolve();
        socket.write(bytes, () => resolve());
      }),
    async waitFor(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(pduTypes())) {
        if (Date.now() > deadline) throw new Error(`no such answer; got PDUs ${pduTypes()}`);
        if (isClosed) throw new Error(`closed; got PDUs ${pduTypes()}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    destroy: () => socket.destroy(),
  };
}

/** Resolves true when the connection is closed within `ms`, false otherwise. */
export async function closesWithin(peer: RawPeer, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    peer.closed.then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ]);
  clearTimeout(timer);
  return result;
}
