import test from 'ava';
import { randomBytes } from 'node:crypto';
import { PduFramer } from '../../gateway/pdu-framer.js';

function pdu(type: number, body: Buffer): Buffer {
  const header = Buffer.alloc(6);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(body.length, 2);
  return Buffer.concat([header, body]);
}

test('frames PDUs whatever the chunking, in order and byte for byte', (t) => {
  const pdus = [
    pdu(0x01, randomBytes(300)),
    pdu(0x04, randomBytes(70_000)),
    pdu(0x04, randomBytes(5)),
    pdu(0x05, Buffer.alloc(4)),
  ];
  const stream = Buffer.concat(pdus);
  for (const size of [1, 5, 6, 7, 1000, 65536, stream.length]) {
    const received: Buffer[] = [];
    const framer = new PduFramer(131072, (p) => received.push(Buffer.from(p)));
    for (let i = 0; i < stream.length; i += size) {
      t.is(framer.push(stream.subarray(i, i + size)), undefined);
    }
    t.deepEqual(received, pdus, `chunks of ${size}`);
  }
});

test('a P-DATA-TF longer than the announced maximum is a protocol violation', (t) => {
  const framer = new PduFramer(16384, () => t.fail('no PDU expected'));
  const header = Buffer.from([0x04, 0, 0xff, 0xff, 0xff, 0xff]);
  t.regex(framer.push(header) ?? '', /over the limit/);
});

test('an association PDU over 64 KiB and an unknown PDU type are refused before buffering', (t) => {
  const big = Buffer.alloc(6);
  big.writeUInt8(0x01, 0);
  big.writeUInt32BE(10_000_000, 2);
  t.regex(new PduFramer(16384, () => undefined).push(big) ?? '', /over the limit/);
  t.regex(
    new PduFramer(16384, () => undefined).push(Buffer.from([0x09, 0, 0, 0, 0, 0])) ?? '',
    /unknown PDU type 9/,
  );
});
