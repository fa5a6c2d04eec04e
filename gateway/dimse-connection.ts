/**
 * One DICOM association over one socket, either side: dcmjs-dimse parses PDUs, association
 * negotiation and incoming DIMSE messages; what Lightbox sends as the invoker of a sub-operation
 * (C-STORE-RQ with the stored bytes, N-EVENT-REPORT-RQ) goes out through sendMessage, and the
 * responses to it come back through awaitResponse, never through the library's request queue
 * (which would decode and re-encode the data set).
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import dimse from 'dcmjs-dimse';
import type { Logger } from '../core/log.js';
import { encodePDataTF } from './dimse-command.js';
import { PduFramer } from './pdu-framer.js';

const { Scp } = dimse;

type ScpBase = InstanceType<typeof Scp>;
type PresentationContext = Parameters<ScpBase['createStoreWritableStream']>[0];
export type Association = Parameters<ScpBase['associationRequested']>[0];
export type DimseResponse = InstanceType<typeof dimse.responses.CStoreResponse>;

/** PS3.7 §E.1: the Command Field of a response has bit 15 set. */
const RESPONSE_BIT = 0x8000;
/** dcmjs-dimse caps what it sends at 4 MiB per PDU whatever the peer says; so do we. */
const LIBRARY_MAX_PDU = 4 * 1024 * 1024;

interface LibraryInternals {
  _processPdu(pdu: Buffer): Promise<void>;
  _performDimse(context: PresentationContext, message: DimseResponse): void;
  _getNextMessageId(): number;
  lastPduTime: number | undefined;
  connected: boolean;
}

interface Waiter {
  resolve(response: DimseResponse): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export class DimseConnection extends Scp {
  readonly log: Logger;
  /** The largest PDU the peer accepts (its A-ASSOCIATE maximum length; 0 = unlimited). */
  peerMaxPduLength = 0;
  private readonly waiters = new Map<number, Waiter>();
  /** Serialises writers: a PDU sequence of one message is never interleaved with another's. */
  private sending: Promise<void> = Promise.resolve();

  constructor(
    protected readonly tcp: Socket,
    options: { maxPduLength: number; associationTimeoutMs: number; pduTimeoutMs: number },
    log: Logger,
  ) {
    super(tcp, {
      associationTimeout: options.associationTimeoutMs,
      pduTimeout: options.pduTimeoutMs,
      logCommandDatasets: false,
      logDatasets: false,
    });
    this.log = log;
    this.replacePduAccumulator(options.maxPduLength);
    this.interceptResponses();
    tcp.once('close', () => this.failWaiters(new Error('association closed')));
  }

  private get library(): LibraryInternals {
    return this as unknown as LibraryInternals;
  }

  /**
   * Swaps dcmjs-dimse's socket 'data' listener (its PDU accumulator) for PduFramer, which bounds PDU
   * sizes and allocates at most once per PDU; each PDU then goes to the library's own PDU handler.
   */
  private replacePduAccumulator(maxPduLength: number): void {
    for (const listener of this.tcp.listeners('data')) {
      this.tcp.off('data', listener as (chunk: Buffer) => void);
    }
    const framer = new PduFramer(maxPduLength, (pdu) => {
      this.library.lastPduTime = Date.now();
      void this.library._processPdu(pdu);
    });
    this.tcp.on('data', (chunk: Buffer) => {
      const violation = framer.push(chunk);
      if (violation) {
        this.log.warn({ violation }, 'association aborted: protocol violation');
        this.tcp.destroy();
      }
    });
  }

  /** Responses to messages sent by sendMessage are delivered to their waiter. */
  private interceptResponses(): void {
    const perform = this.library._performDimse.bind(this);
    this.library._performDimse = (context, message) => {
      const isResponse = (message.getCommandFieldType() & RESPONSE_BIT) !== 0;
      const id = isResponse ? message.getMessageIdBeingRespondedTo() : undefined;
      const waiter = id === undefined ? undefined : this.waiters.get(id);
      if (id !== undefined && waiter) {
        this.waiters.delete(id);
        clearTimeout(waiter.timer);
        waiter.resolve(message);
        return;
      }
      perform(context, message);
    };
  }

  /** The association as negotiated (after A-ASSOCIATE-RQ/AC), undefined before. */
  get negotiated(): Association | undefined {
    return (this as unknown as { association?: Association }).association;
  }

  override abort(): void {
    this.failWaiters(new Error('association aborted'));
  }

  /** Marks the association as alive (the library's PDU timeout) during long sub-operations. */
  keepAlive(): void {
    this.library.lastPduTime = Date.now();
  }

  nextMessageId(): number {
    return this.library._getNextMessageId();
  }

  get isOpen(): boolean {
    return !this.tcp.destroyed;
  }

  /** Resolves with the response to `messageId`; rejects after `timeoutMs` or when the socket closes. */
  awaitResponse(messageId: number, timeoutMs: number): Promise<DimseResponse> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(messageId);
        reject(new Error('no response in time'));
      }, timeoutMs);
      this.waiters.set(messageId, { resolve, reject, timer });
    });
  }

  /**
   * Sends one DIMSE message: the command set, then the data set (a stream of the bytes as they are to
   * travel, in the context's transfer syntax), each in P-DATA-TF PDUs no larger than the peer takes.
   * Each PDU is one socket write; the socket's backpressure is honoured.
   */
  sendMessage(contextId: number, command: Buffer, dataset?: Readable): Promise<void> {
    const send = async () => {
      const limit = this.peerMaxPduLength === 0 ? LIBRARY_MAX_PDU : this.peerMaxPduLength;
      const max = Math.min(limit, LIBRARY_MAX_PDU) - 6; // PDV item header: length + id + control
      await this.writePdu(encodePDataTF(contextId, command, { command: true, last: true }));
      if (!dataset) return;
      let chunks: Buffer[] = [];
      let buffered = 0;
      for await (const chunk of dataset) {
        chunks.push(chunk as Buffer);
        buffered += (chunk as Buffer).length;
        if (buffered <= max) continue;
        let pending = Buffer.concat(chunks, buffered);
        while (pending.length > max) {
          await this.writePdu(encodePDataTF(contextId, pending.subarray(0, max), { last: false }));
          pending = pending.subarray(max);
        }
        chunks = [pending];
        buffered = pending.length;
      }
      await this.writePdu(
        encodePDataTF(contextId, Buffer.concat(chunks, buffered), { last: true }),
      );
    };
    const sent = this.sending.then(send);
    this.sending = sent.catch(() => undefined);
    return sent;
  }

  private async writePdu(pdu: Buffer): Promise<void> {
    if (this.tcp.destroyed) throw new Error('association closed');
    if (this.tcp.write(pdu)) return;
    await new Promise<void>((resolve, reject) => {
      const done = () => {
        this.tcp.off('drain', done);
        this.tcp.off('close', closed);
        resolve();
      };
      const closed = () => {
        this.tcp.off('drain', done);
        reject(new Error('association closed'));
      };
      this.tcp.once('drain', done);
      this.tcp.once('close', closed);
    });
  }

  private failWaiters(error: Error): void {
    for (const [id, waiter] of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
      this.waiters.delete(id);
    }
  }
}
