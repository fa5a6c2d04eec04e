/**
 * PduGuard watches the raw byte stream of an association ahead of dcmjs-dimse and enforces what that
 * library does not: a PDU may not exceed the maximum length we announced (PS3.8 §9.3.1: receiving a
 * longer P-DATA-TF is a protocol error) and an A-ASSOCIATE-RQ is bounded. dcmjs-dimse reassembles each
 * PDU in memory, so without this a peer announcing a 4 GiB PDU would pin 4 GiB.
 */
const PDATA_TF = 0x04;
const PDU_HEADER = 6;
/** Association request/accept PDUs are small; 64 KiB leaves room for many presentation contexts. */
const MAX_CONTROL_PDU = 64 * 1024;

export class PduGuard {
  private header = Buffer.alloc(0);
  private remaining = 0;

  constructor(private readonly maxPDataLength: () => number) {}

  /** Returns an error message if `chunk` breaks the limits, undefined otherwise. */
  inspect(chunk: Buffer): string | undefined {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - offset);
        this.remaining -= take;
        offset += take;
        continue;
      }
      const need = PDU_HEADER - this.header.length;
      const part = chunk.subarray(offset, offset + need);
      this.header = this.header.length ? Buffer.concat([this.header, part]) : Buffer.from(part);
      offset += part.length;
      if (this.header.length < PDU_HEADER) return undefined;
      const type = this.header.readUInt8(0);
      const length = this.header.readUInt32BE(2);
      this.header = Buffer.alloc(0);
      // A P-DATA-TF may carry its PDV headers on top of the negotiated maximum PDV payload.
      const limit = type === PDATA_TF ? this.maxPDataLength() + 1024 : MAX_CONTROL_PDU;
      if (length > limit) return `PDU of type ${type} with length ${length} exceeds ${limit}`;
      this.remaining = length;
    }
    return undefined;
  }
}
