/**
 * The command sets Lightbox encodes itself, read back by dcmjs-dimse's own parser (the one that
 * reads every command a peer sends): each element where PS3.7 puts it, the group length right.
 */
import test from 'ava';
import dimse from 'dcmjs-dimse';
import { encodeCStoreRSP, encodePDataTF } from '../../gateway/dimse-command.js';

const ImplicitVRLittleEndian = '1.2.840.10008.1.2';
const CTImageStorage = '1.2.840.10008.5.1.4.1.1.2';

/** The command set's elements by keyword, as dcmjs-dimse decodes them. */
function decode(command: Buffer): Record<string, unknown> {
  return new dimse.Dataset(command, ImplicitVRLittleEndian).getElements();
}

test('C-STORE-RSP: Success, no data set, the request echoed, group length covering the rest', (t) => {
  const command = encodeCStoreRSP({
    MessageIDBeingRespondedTo: 7,
    AffectedSOPClassUID: CTImageStorage,
    AffectedSOPInstanceUID: '1.2.3.45', // odd length: padded with NUL
    Status: 0x0000,
  });
  t.like(decode(command), {
    AffectedSOPClassUID: CTImageStorage,
    CommandField: 0x8001,
    MessageIDBeingRespondedTo: 7,
    CommandDataSetType: 0x0101,
    Status: 0x0000,
    AffectedSOPInstanceUID: '1.2.3.45',
  });
  t.is(command.readUInt32LE(8), command.length - 12, 'CommandGroupLength');
  t.is(command.length % 2, 0);
  t.false('ErrorComment' in decode(command));
  // The tags ascend (PS3.5 §7.1): AffectedSOPClassUID first, AffectedSOPInstanceUID last.
  const tags: number[] = [];
  for (let offset = 12; offset < command.length; offset += 8 + command.readUInt32LE(offset + 4)) {
    tags.push(command.readUInt16LE(offset + 2));
  }
  t.deepEqual(tags, [0x0002, 0x0100, 0x0120, 0x0800, 0x0900, 0x1000]);
});

test('C-STORE-RSP: a failure carries its Error Comment, cut to the 64 characters of LO', (t) => {
  const failure = decode(
    encodeCStoreRSP({
      MessageIDBeingRespondedTo: 65535,
      AffectedSOPClassUID: CTImageStorage,
      AffectedSOPInstanceUID: '1.2.3.4',
      Status: 0xa700,
      ErrorComment: 'Storage unavailable',
    }),
  );
  t.like(failure, { Status: 0xa700, ErrorComment: 'Storage unavailable' });
  t.is(failure.MessageIDBeingRespondedTo, 65535);
  const long = decode(
    encodeCStoreRSP({
      MessageIDBeingRespondedTo: 1,
      AffectedSOPClassUID: CTImageStorage,
      AffectedSOPInstanceUID: '1.2.3.4',
      Status: 0xc000,
      ErrorComment: 'x'.repeat(100),
    }),
  );
  t.is(long.ErrorComment, 'x'.repeat(64));
});

test('P-DATA-TF: one PDV, its length, context and the command/last bits', (t) => {
  const pdu = encodePDataTF(3, Buffer.from('abcd'), { command: true, last: true });
  t.is(pdu[0], 0x04);
  t.is(pdu.readUInt32BE(2), 4 + 6);
  t.is(pdu.readUInt32BE(6), 4 + 2);
  t.is(pdu[10], 3);
  t.is(pdu[11], 0x03);
  t.is(pdu.subarray(12).toString(), 'abcd');
});
