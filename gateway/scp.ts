/**
 * The SCP of one association: dcmjs-dimse parses PDUs and DIMSE commands; everything that decides or
 * stores is Lightbox's. One instance per TCP connection.
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import dimse from 'dcmjs-dimse';
import type { GatewayConfig } from '../config/schema.js';
import type { DimseConfig, OrganisationConfig } from '../config/schema.js';
import type { IndexStore } from '../core/archive/index-store.js';
import type { ObjectStore } from '../core/archive/object-store.js';
import type { Logger } from '../core/log.js';
import type { LightboxMetrics } from '../core/ops/metrics.js';
import type { IngestQueue } from '../core/queue/ingest-queue.js';
import type { Spool } from '../core/spool/spool.js';
import { decideAssociation, decidePresentationContext } from './association.js';
import { cStore, cStoreCommand, openReception, type Reception } from './c-store.js';
import { CStoreStatus } from './dimse-status.js';
import { encodeCStoreRSP } from './dimse-command.js';
import { DimseConnection } from './dimse-connection.js';
import {
  QueryRetrieveScp,
  type CCancelRequest,
  type CFindRequest,
  type CGetRequest,
  type CMoveRequest,
  type NActionRequest,
  type NActionResponse,
} from './query-retrieve-scp.js';

const { Scp, Dataset } = dimse;
const { CEchoResponse, CStoreResponse } = dimse.responses;
const { AbortReason, AbortSource, RejectResult, RejectSource, Status } = dimse.constants;

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
  /** Index and object store: Query/Retrieve and Storage Commitment are offered only with them. */
  archive?: { index: IndexStore; objects: ObjectStore };
  dimse: DimseConfig;
  organisations: readonly OrganisationConfig[];
  /** Counts for metrics and tests. */
  onInstance?: (outcome: { status: number; bytes: number }) => void;
  metrics?: LightboxMetrics;
}

export class LightboxScp extends DimseConnection {
  private callingAETitle = '';
  private reception: Reception | undefined;
  /** The presentation context the reception's C-STORE-RQ came on: its response goes on it too. */
  private receptionContextID: number | undefined;
  private readonly queryRetrieve: QueryRetrieveScp;

  constructor(
    tcp: Socket,
    private readonly context: ScpContext,
  ) {
    super(
      tcp,
      {
        maxPduLength: context.config.maxPduLength,
        associationTimeoutMs: context.config.associationTimeoutMs,
        pduTimeoutMs: context.config.pduTimeoutMs,
      },
      context.log.child({ associationId: randomUUID() }),
    );
    tcp.once('close', () => void this.reception?.writer.abort());
    this.queryRetrieve = new QueryRetrieveScp(this, context);
    this.startAssociationTimer();
  }

  /**
   * dcmjs-dimse starts the association timeout (no complete PDU within associationTimeoutMs) from
   * its socket's 'connect' event, which an accepted socket never emits: without this, a peer that
   * connects and sends nothing, or a byte now and then, or half a PDU, would hold one of the
   * maxAssociations slots until the 3-minute idle timeout, or forever.
   */
  private startAssociationTimer(): void {
    const library = this as unknown as { connected: boolean; connectedTime: number | undefined };
    library.connected = true;
    library.connectedTime = Date.now();
  }

  /**
   * dcmjs-dimse calls these handlers from an event emitter whose listeners run as promises: an
   * exception thrown in one is an unhandled rejection, which ends the process. Each handler runs
   * guarded: a request the library can parse but not answer aborts its own association only.
   */
  private guarded(what: string, handler: () => void): void {
    try {
      handler();
    } catch (error) {
      this.log.warn({ err: error, what }, 'association aborted: request could not be answered');
      this.tcp.destroy();
    }
  }

  override associationRequested(association: Association): void {
    this.guarded('A-ASSOCIATE-RQ', () => this.answerAssociation(association));
  }

  private answerAssociation(association: Association): void {
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
    const contexts = [...association.getPresentationContexts()];
    // PS3.8 §9.3.2.2: presentation context IDs are odd integers from 1 to 255. dcmjs-dimse renumbers
    // an ID that is not above every earlier one (id + 2), past 255 when the peer sent high ones.
    if (contexts.some(({ id }) => id < 1 || id > 255 || id % 2 === 0)) {
      this.log.warn({ callingAETitle }, 'association aborted: invalid presentation context ID');
      this.sendAbort(AbortSource.ServiceProvider, AbortReason.InvalidPduParameter);
      this.tcp.destroy();
      return;
    }
    this.callingAETitle = callingAETitle;
    this.queryRetrieve.associated(callingAETitle);
    const archive = this.context.archive !== undefined;
    for (const { context } of contexts) {
      const decided = decidePresentationContext(
        {
          abstractSyntaxUID: context.getAbstractSyntaxUid(),
          transferSyntaxUIDs: [...context.getTransferSyntaxUids()],
          requesterIsSCP: context.getProviderRole() === true,
        },
        archive,
      );
      context.setResult(decided.result, decided.transferSyntaxUID);
    }
    // Our sends (C-FIND/C-GET responses, C-STORE sub-operations) respect the peer's maximum.
    this.peerMaxPduLength = association.getMaxPduLength();
    association.setMaxPduLength(this.context.config.maxPduLength);
    association.setNegotiateAsyncOps(false);
    this.sendAssociationAccept();
    this.context.metrics?.associationAccepted();
    association.setMaxPduLength(this.peerMaxPduLength);
    this.log.info({ callingAETitle }, 'association accepted');
  }

  override associationReleaseRequested(): void {
    this.queryRetrieve.releasing();
    this.sendAssociationReleaseResponse();
  }

  // Pending responses are streamed with sendResponse; the library's one-shot callback is unused.
  override cFindRequest(request: CFindRequest): void {
    this.guarded('C-FIND-RQ', () => this.queryRetrieve.cFind(request));
  }

  override cMoveRequest(request: CMoveRequest): void {
    this.guarded('C-MOVE-RQ', () => this.queryRetrieve.cMove(request));
  }

  override cGetRequest(request: CGetRequest): void {
    this.guarded('C-GET-RQ', () => this.queryRetrieve.cGet(request));
  }

  override cCancelRequest(request: CCancelRequest): void {
    this.guarded('C-CANCEL-RQ', () => this.queryRetrieve.cancel(request));
  }

  override nActionRequest(
    request: NActionRequest,
    callback: (response: NActionResponse) => void,
  ): void {
    this.guarded('N-ACTION-RQ', () => this.queryRetrieve.nAction(request, callback));
  }

  override cEchoRequest(
    request: CEchoRequest,
    callback: (response: InstanceType<typeof CEchoResponse>) => void,
  ): void {
    this.guarded('C-ECHO-RQ', () => {
      const response = CEchoResponse.fromRequest(request);
      response.setStatus(Status.Success);
      callback(response);
    });
  }

  override createStoreWritableStream(context: PresentationContext, request: CStoreRequest) {
    this.receptionContextID = context.getPresentationContextId();
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
    const presentationContextID = this.receptionContextID;
    this.reception = undefined;
    this.receptionContextID = undefined;
    cStore(reception, this.callingAETitle, this.context.queue).then(
      (outcome) => {
        // Counted once the reception has finished: the writer counts bytes as it writes them.
        const bytes = reception?.writer.bytesReceived ?? 0;
        const errorComment = 'errorComment' in outcome ? outcome.errorComment : undefined;
        if (errorComment !== undefined) {
          this.log.warn({ status: outcome.status, reason: errorComment }, 'C-STORE failed');
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
        if (reception && presentationContextID !== undefined) {
          const response = encodeCStoreRSP({
            MessageIDBeingRespondedTo: request.getMessageId(),
            ...reception.command,
            Status: outcome.status,
            ErrorComment: errorComment,
          });
          this.sendMessage(presentationContextID, response).catch((error: unknown) =>
            this.log.debug({ err: error }, 'C-STORE-RSP not sent: association closed'),
          );
          return;
        }
        // No data set came (nothing was opened): the library's response, on its context.
        const response = CStoreResponse.fromRequest(request);
        response.setStatus(outcome.status);
        if (errorComment !== undefined) response.setErrorComment(errorComment);
        this.guarded('C-STORE-RSP', () => callback(response));
      },
      (error: unknown) => {
        this.log.error({ err: error }, 'C-STORE handler failed');
      },
    );
  }

  override abort(): void {
    super.abort();
    void this.reception?.writer.abort();
    this.reception = undefined;
  }
}

export { CStoreStatus };
