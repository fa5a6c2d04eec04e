/**
 * The SCP of one association: dcmjs-dimse parses PDUs and DIMSE commands; everything that decides or
 * stores is Lightbox's. One instance per TCP connection.
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import dimse from 'dcmjs-dimse';
import type { GatewayConfig } from '../config/schema.js';
import type { Logger } from '../core/log.js';
import type { LightboxMetrics } from '../core/ops/metrics.js';
import type { IngestQueue } from '../core/queue/ingest-queue.js';
import type { Spool } from '../core/spool/spool.js';
import { decideAssociation, decidePresentationContext } from './association.js';
import { cStore, cStoreCommand, openReception, type Reception } from './c-store.js';
import { CStoreStatus } from './dimse-status.js';
import { PduFramer } from './pdu-framer.js';

const { Scp, Dataset } = dimse;
const { CEchoResponse, CStoreResponse } = dimse.responses;
const { RejectResult, RejectSource, Status } = dimse.constants;

type ScpBase = InstanceType<typeof Scp>;
type PresentationContext = Parameters<ScpBase['createStoreWritableStream']>[0];
type CStoreRequest = Parameters<ScpBase['cStoreRequest']>[0];
type CEchoRequest = Parameters<ScpBase['cEchoRequest']>[0];
type Association = Parameters<ScpBase['associationRequested']>[0];

export interface ScpContext {
  config: GatewayConfig;
  spool: Spool;
  queue: IngestQueue;
  log: Logger;
  /** Counts for metrics and tests. */
  onInstance?: (outcome: { status: number; bytes: number }) => void;
  metrics?: LightboxMetrics;
}

export class LightboxScp extends Scp {
  private readonly log: Logger;
  private callingAETitle = '';
  private reception: Reception | undefined;

  constructor(
    private readonly tcp: Socket,
    private readonly context: ScpContext,
  ) {
    super(tcp, {
      associationTimeout: context.config.associationTimeoutMs,
      pduTimeout: context.config.pduTimeoutMs,
      logCommandDatasets: false,
      logDatasets: false,
    });
    this.log = context.log.child({ associationId: randomUUID() });
    tcp.once('close', () => void this.reception?.writer.abort());
    this.replacePduAccumulator();
  }

  /**
   * Swaps dcmjs-dimse's socket 'data' listener (its PDU accumulator) for PduFramer, which bounds PDU
   * sizes and allocates at most once per PDU; each PDU then goes to the library's own PDU handler.
   */
  private replacePduAccumulator(): void {
    const library = this as unknown as {
      _processPdu(pdu: Buffer): Promise<void>;
      lastPduTime: number | undefined;
    };
    for (const listener of this.tcp.listeners('data')) {
      this.tcp.off('data', listener as (chunk: Buffer) => void);
    }
    const framer = new PduFramer(this.context.config.maxPduLength, (pdu) => {
      library.lastPduTime = Date.now();
      void library._processPdu(pdu);
    });
    this.tcp.on('data', (chunk: Buffer) => {
      const violation = framer.push(chunk);
      if (violation) {
        this.log.warn({ violation }, 'association aborted: protocol violation');
        this.tcp.destroy();
      }
    });
  }

  override associationRequested(association: Association): void {
    const callingAETitle = association.getCallingAeTitle().trim();
    const decision = decideAssociation(
      this.context.config,
      callingAETitle,
      association.getCalledAeTitle(),
    );
    if (!decision.accept) {
      this.log.warn({ callingAETitle, why: decision.why }, 'association rejected');
      this.context.metrics?.associationRejected(decision.why);
      this.sendAssociationReject(RejectResult.Permanent, RejectSource.ServiceUser, decision.reason);
      return;
    }
    this.callingAETitle = callingAETitle;
    for (const { context } of [...association.getPresentationContexts()]) {
      const decided = decidePresentationContext({
        abstractSyntaxUID: context.getAbstractSyntaxUid(),
        transferSyntaxUIDs: [...context.getTransferSyntaxUids()],
      });
      context.setResult(decided.result, decided.transferSyntaxUID);
    }
    association.setMaxPduLength(this.context.config.maxPduLength);
    association.setNegotiateAsyncOps(false);
    this.sendAssociationAccept();
    this.context.metrics?.associationAccepted();
    this.log.info({ callingAETitle }, 'association accepted');
  }

  override associationReleaseRequested(): void {
    this.sendAssociationReleaseResponse();
  }

  override cEchoRequest(
    request: CEchoRequest,
    callback: (response: InstanceType<typeof CEchoResponse>) => void,
  ): void {
    const response = CEchoResponse.fromRequest(request);
    response.setStatus(Status.Success);
    callback(response);
  }

  override createStoreWritableStream(context: PresentationContext, request: CStoreRequest) {
    this.reception = openReception(
      this.context.spool,
      this.tcp,
      cStoreCommand(request),
      context.getAcceptedTransferSyntaxUid() ?? '',
      this.callingAETitle,
      this.context.config.maxInstanceBytes,
    );
    return this.reception.writer;
  }

  override createDatasetFromStoreWritableStream(
    _writable: unknown,
    context: PresentationContext,
    callback: (dataset: InstanceType<typeof Dataset>) => void,
  ): void {
    // The bytes are in the spool; the SCP never materialises the data set in memory.
    callback(new Dataset({}, context.getAcceptedTransferSyntaxUid()));
  }

  override cStoreRequest(
    request: CStoreRequest,
    callback: (response: InstanceType<typeof CStoreResponse>) => void,
  ): void {
    const reception = this.reception;
    this.reception = undefined;
    cStore(reception, this.callingAETitle, this.context.queue).then(
      (outcome) => {
        // Counted once the reception has finished: the writer counts bytes as it writes them.
        const bytes = reception?.writer.bytesReceived ?? 0;
        const response = CStoreResponse.fromRequest(request);
        response.setStatus(outcome.status);
        if ('errorComment' in outcome) {
          response.setErrorComment(outcome.errorComment);
          this.log.warn({ status: outcome.status, reason: outcome.errorComment }, 'C-STORE failed');
        } else {
          this.log.debug({ bytes }, 'C-STORE stored');
        }
        this.context.onInstance?.({ status: outcome.status, bytes });
        this.context.metrics?.instanceReceived(
          'c-store',
          outcome.status === CStoreStatus.Success,
          bytes,
        );
        if (this.tcp.destroyed) return;
        callback(response);
      },
      (error: unknown) => {
        this.log.error({ err: error }, 'C-STORE handler failed');
      },
    );
  }

  override abort(): void {
    void this.reception?.writer.abort();
    this.reception = undefined;
  }
}

export { CStoreStatus };
