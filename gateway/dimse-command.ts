/**
 * Encodes command sets Lightbox sends (PS3.7 §6.3, always Implicit VR Little Endian, group 0000 with
 * its group length first) and P-DATA-TF PDUs (PS3.8 §9.3.5): the requests it sends as a DIMSE
 * invoker, and the C-STORE-RSP, the one response sent for every received instance (dcmjs-dimse's
 * generic encoder cost about 0.5 ms of the gateway's thread per response). Data sets are never
 * encoded here: they travel as stored.
 */

/** PS3.7 §E.1 Command Field values Lightbox sends. */
export const CommandField = {
  CStoreRQ: 0x0001,
  CStoreRSP: 0x8001,
  NEventReportRQ: 0x0100,
} as const;

/** PS3.7 §E.1: any value other than 0x0101 says a data set follows. */
const DATA_SET_PRESENT = 0x0000;
/** PS3.7 §E.1: no data set follows. */
const NO_DATA_SET = 0x0101;

type CommandElement = [element: number, vr: 'UI' | 'AE' | 'LO' | 'US', value: string | number];

function encodeElement([element, vr, value]: CommandElement): Buffer {
  let bytes: Buffer;
  if (vr === 'US') {
    bytes = Buffer.alloc(2);
    bytes.writeUInt16LE(value as number, 0);
  } else {
    const text = String(value);
    const pad = vr === 'UI' ? '\0' : ' ';
    bytes = Buffer.from(text.length % 2 === 0 ? text : text + pad, 'latin1');
  }
  const header = Buffer.alloc(8);
  header.writeUInt16LE(0x0000, 0);
  header.writeUInt16LE(element, 2);
  header.writeUInt32LE(bytes.length, 4);
  return Buffer.concat([header, bytes]);
}

/** A command set: the elements (ascending element numbers), preceded by CommandGroupLength. */
export function encodeCommandSet(elements: CommandElement[]): Buffer {
  const body = Buffer.concat(elements.map(encodeElement));
  const length = Buffer.alloc(12);
  length.writeUInt16LE(0x0000, 0);
  length.writeUInt16LE(0x0000, 2);
  length.writeUInt32LE(4, 4);
  length.writeUInt32LE(body.length, 8);
  return Buffer.concat([length, body]);
}

export interface CStoreRQ {
  MessageID: number;
  AffectedSOPClassUID: string;
  AffectedSOPInstanceUID: string;
  /** Set on the C-STORE sub-operations of a C-MOVE (PS3.4 §C.4.2.2.2). */
  MoveOriginatorApplicationEntityTitle?: string;
  MoveOriginatorMessageID?: number;
}

/** C-STORE-RQ (PS3.7 §9.3.1.1), medium priority. */
export function encodeCStoreRQ(rq: CStoreRQ): Buffer {
  const elements: CommandElement[] = [
    [0x0002, 'UI', rq.AffectedSOPClassUID],
    [0x0100, 'US', CommandField.CStoreRQ],
    [0x0110, 'US', rq.MessageID],
    [0x0700, 'US', 0x0000],
    [0x0800, 'US', DATA_SET_PRESENT],
    [0x1000, 'UI', rq.AffectedSOPInstanceUID],
  ];
  if (rq.MoveOriginatorApplicationEntityTitle !== undefined) {
    elements.push([0x1030, 'AE', rq.MoveOriginatorApplicationEntityTitle]);
    elements.push([0x1031, 'US', rq.MoveOriginatorMessageID ?? 0]);
  }
  return encodeCommandSet(elements);
}

export interface CStoreRSP {
  MessageIDBeingRespondedTo: number;
  AffectedSOPClassUID: string;
  AffectedSOPInstanceUID: string;
  Status: number;
  /** PS3.7 §C.4.2: LO, at most 64 characters (cut to fit). */
  ErrorComment?: string;
}

/** C-STORE-RSP (PS3.7 §9.3.1.2). */
export function encodeCStoreRSP(rsp: CStoreRSP): Buffer {
  const elements: CommandElement[] = [
    [0x0002, 'UI', rsp.AffectedSOPClassUID],
    [0x0100, 'US', CommandField.CStoreRSP],
    [0x0120, 'US', rsp.MessageIDBeingRespondedTo],
    [0x0800, 'US', NO_DATA_SET],
    [0x0900, 'US', rsp.Status],
  ];
  if (rsp.ErrorComment !== undefined) {
    elements.push([0x0902, 'LO', rsp.ErrorComment.slice(0, 64)]);
  }
  elements.push([0x1000, 'UI', rsp.AffectedSOPInstanceUID]);
  return encodeCommandSet(elements);
}

/** N-EVENT-REPORT-RQ (PS3.7 §10.3.1.1) with an Event Information data set. */
export function encodeNEventReportRQ(rq: {
  MessageID: number;
  AffectedSOPClassUID: string;
  AffectedSOPInstanceUID: string;
  EventTypeID: number;
}): Buffer {
  return encodeCommandSet([
    [0x0002, 'UI', rq.AffectedSOPClassUID],
    [0x0100, 'US', CommandField.NEventReportRQ],
    [0x0110, 'US', rq.MessageID],
    [0x0800, 'US', DATA_SET_PRESENT],
    [0x1000, 'UI', rq.AffectedSOPInstanceUID],
    [0x1002, 'US', rq.EventTypeID],
  ]);
}

/** One P-DATA-TF PDU holding one PDV (PS3.8 §9.3.5, message control header §E.2). */
export function encodePDataTF(
  contextId: number,
  fragment: Buffer,
  flags: { command?: boolean; last: boolean },
): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt8(0x04, 0);
  header.writeUInt32BE(fragment.length + 6, 2);
  header.writeUInt32BE(fragment.length + 2, 6);
  header.writeUInt8(contextId, 10);
  header.writeUInt8((flags.command ? 0x01 : 0x00) | (flags.last ? 0x02 : 0x00), 11);
  return Buffer.concat([header, fragment]);
}
