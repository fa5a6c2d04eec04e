/**
 * The Query/Retrieve and Storage Commitment side of one association: turns dcmjs-dimse requests
 * into calls of c-find.ts, c-move.ts, c-get.ts and storage-commitment.ts, and their outcomes into
 * responses. The principal comes from the Calling AE Title (gateway/principal.ts) and its scope
 * from core/grants, once per request, so that a grant change applies to the next request.
 */
import dimse from 'dcmjs-dimse';
import type { DicomJson } from '../core/archive/index-store.js';
import { studyScope } from '../core/grants/grants.js';
import { cFind } from './c-find.js';
import { cGet } from './c-get.js';
import { cMove } from './c-move.js';
import type { DimseConnection } from './dimse-connection.js';
import { datasetToDicomJson, dicomJsonToDataset } from './dimse-dataset.js';
import { NActionStatus, nActionFailure, QueryRetrieveStatus } from './dimse-status.js';
import { moveDestination, principalForCallingAETitle } from './principal.js';
import type { RetrieveContext, RetrieveResponse } from './retrieve.js';
import type { ScpContext } from './scp.js';
import { queryRetrieveModel, StorageCommitmentPushModelSOPClassUID } from './sop-classes.js';
import {
  commitmentReport,
  parseCommitmentRequest,
  RequestStorageCommitment,
  sendCommitmentReport,
  type CommitmentReport,
} from './storage-commitment.js';
import { openAssociation } from './scu-association.js';

const { CFindResponse, CMoveResponse, CGetResponse, NActionResponse } = dimse.responses;
export type CFindRequest = InstanceType<typeof dimse.requests.CFindRequest>;
export type CMoveRequest = InstanceType<typeof dimse.requests.CMoveRequest>;
export type CGetRequest = InstanceType<typeof dimse.requests.CGetRequest>;
export type CCancelRequest = InstanceType<typeof dimse.requests.CCancelRequest>;
export type NActionRequest = InstanceType<typeof dimse.requests.NActionRequest>;
export type CFindResponse = InstanceType<typeof CFindResponse>;
export type CMoveResponse = InstanceType<typeof CMoveResponse>;
export type CGetResponse = InstanceType<typeof CGetResponse>;
export type NActionResponse = InstanceType<typeof NActionResponse>;
type RetrieveRequest = CMoveRequest | CGetRequest;
type AnyRequest = CFindRequest | RetrieveRequest | NActionRequest;

const ExplicitVRLittleEndian = '1.2.840.10008.1.2.1';
const ImplicitVRLittleEndian = '1.2.840.10008.1.2';

export class QueryRetrieveScp {
  private callingAETitle = '';
  /** Message IDs of running C-FIND/C-MOVE/C-GET → cancelled? */
  private readonly running = new Map<number, { cancelled: boolean }>();
  private released = false;

  constructor(
    private readonly connection: DimseConnection,
    private readonly context: ScpContext,
  ) {}

  associated(callingAETitle: string): void {
    this.callingAETitle = callingAETitle;
  }

  /**
   * The requester asked to release: a Storage Commitment report not yet sent goes on a new
   * association (a peer releasing right after N-ACTION-RSP, as Orthanc does, expects it there).
   */
  releasing(): void {
    this.released = true;
  }

  private scope() {
    return studyScope(principalForCallingAETitle(this.access(), this.callingAETitle));
  }

  private access() {
    return { peers: this.context.dimse.peers, organisations: this.context.organisations };
  }

  private transferSyntax(request: AnyRequest): string {
    const context = this.connection.negotiated?.getAcceptedPresentationContextFromRequest(request);
    return context?.getAcceptedTransferSyntaxUid() ?? ImplicitVRLittleEndian;
  }

  /** Registers a cancellable operation for the length of `run`. */
  private track(request: AnyRequest, run: (cancelled: () => boolean) => Promise<void>): void {
    const id = request.getMessageId();
    const state = { cancelled: false };
    this.running.set(id, state);
    const cancelled = () => state.cancelled || !this.connection.isOpen;
    run(cancelled)
      .catch((error: unknown) =>
        this.context.log.error({ err: error }, 'query/retrieve handler failed'),
      )
      .finally(() => this.running.delete(id));
  }

  cancel(request: CCancelRequest): void {
    const state = this.running.get(request.getMessageIdBeingRespondedTo());
    if (state) state.cancelled = true;
  }

  cFind(request: CFindRequest): void {
    const model = queryRetrieveModel(request.getAffectedSopClassUid());
    const archive = this.context.archive;
    const ts = this.transferSyntax(request);
    const respond = (status: number, identifier?: DicomJson, errorComment?: string) => {
      if (!this.connection.isOpen) return;
      const response = CFindResponse.fromRequest(request);
      response.setStatus(status);
      if (identifier) response.setDataset(dicomJsonToDataset(identifier, ts));
      if (errorComment) response.setErrorComment(errorComment);
      // Each response goes out at once: the library's callback may be called only once.
      this.connection.sendResponse(request, response);
    };
    if (!model || !archive)
      return respond(QueryRetrieveStatus.UnableToProcess, undefined, 'Not supported');
    const identifier = datasetToDicomJson(request.getDataset());
    this.track(request, (cancelled) =>
      cFind(
        {
          index: archive.index,
          scope: this.scope(),
          aeTitle: this.context.config.aeTitle,
          cancelled,
          respond,
        },
        model,
        identifier,
      ),
    );
  }

  private retrieveContext(
    request: RetrieveRequest,
    cancelled: () => boolean,
    make: (request: RetrieveRequest) => CMoveResponse | CGetResponse,
  ): RetrieveContext | undefined {
    const archive = this.context.archive;
    if (!archive) return undefined;
    const ts = this.transferSyntax(request);
    return {
      ...archive,
      scope: this.scope(),
      subOperationTimeoutMs: this.context.dimse.subOperationTimeoutMs,
      log: this.connection.log,
      cancelled,
      respond: (r: RetrieveResponse) => {
        if (!this.connection.isOpen) return;
        const response = make(request);
        response.setStatus(r.status);
        if (r.counts) {
          const final =
            r.status !== QueryRetrieveStatus.Pending && r.status !== QueryRetrieveStatus.Cancel;
          if (!final) response.setRemaining(r.counts.remaining);
          response.setCompleted(r.counts.completed);
          response.setFailures(r.counts.failed);
          response.setWarnings(r.counts.warning);
        }
        if (r.identifier) response.setDataset(dicomJsonToDataset(r.identifier, ts));
        if (r.errorComment) response.setErrorComment(r.errorComment);
        this.connection.sendResponse(request, response);
      },
    };
  }

  cMove(request: CMoveRequest): void {
    const model = queryRetrieveModel(request.getAffectedSopClassUid());
    const identifier = datasetToDicomJson(request.getDataset());
    const MoveDestination = String(
      request.getCommandDataset().getElement('MoveDestination') ?? '',
    ).trim();
    this.track(request, async (cancelled) => {
      const ctx = this.retrieveContext(request, cancelled, (r) =>
        CMoveResponse.fromRequest(r as CMoveRequest),
      );
      if (!ctx || !model) return this.unsupported(request, CMoveResponse);
      const principal = principalForCallingAETitle(this.access(), this.callingAETitle);
      const move = {
        destination: moveDestination(this.access(), principal, MoveDestination),
        originator: { aeTitle: this.callingAETitle, messageId: request.getMessageId() },
        keepAlive: () => this.connection.keepAlive(),
      };
      await cMove(ctx, move, model, identifier, this.scuOptions());
    });
  }

  cGet(request: CGetRequest): void {
    const model = queryRetrieveModel(request.getAffectedSopClassUid());
    const identifier = datasetToDicomJson(request.getDataset());
    this.track(request, async (cancelled) => {
      const ctx = this.retrieveContext(request, cancelled, (r) =>
        CGetResponse.fromRequest(r as CGetRequest),
      );
      if (!ctx || !model) return this.unsupported(request, CGetResponse);
      await cGet(ctx, this.connection, model, identifier);
    });
  }

  private unsupported(
    request: RetrieveRequest,
    type: { fromRequest(r: never): CMoveResponse | CGetResponse },
  ): void {
    const response = type.fromRequest(request as never);
    response.setStatus(QueryRetrieveStatus.UnableToProcess);
    this.connection.sendResponse(request, response);
  }

  private scuOptions() {
    return {
      callingAETitle: this.context.config.aeTitle,
      maxPduLength: this.context.config.maxPduLength,
      connectTimeoutMs: this.context.dimse.connectTimeoutMs,
      log: this.connection.log,
    };
  }

  nAction(request: NActionRequest, callback: (response: NActionResponse) => void): void {
    const response = NActionResponse.fromRequest(request);
    const fail = (status: number, comment: string) => {
      response.setStatus(status);
      response.setErrorComment(comment);
      callback(response);
    };
    const archive = this.context.archive;
    if (request.getRequestedSopClassUid() !== StorageCommitmentPushModelSOPClassUID || !archive) {
      return fail(NActionStatus.NoSuchSOPClass, 'No such SOP Class');
    }
    if (request.getActionTypeId() !== RequestStorageCommitment) {
      return fail(NActionStatus.NoSuchActionType, 'No such action type');
    }
    let parsed;
    try {
      parsed = parseCommitmentRequest(datasetToDicomJson(request.getDataset()));
    } catch (error) {
      const failure = nActionFailure(error);
      return fail(failure.status, failure.errorComment);
    }
    response.setStatus(NActionStatus.Success);
    callback(response);
    const requester = { callingAETitle: this.callingAETitle, scope: this.scope() };
    const contextId = this.connection.negotiated
      ?.getAcceptedPresentationContextFromRequest(request)
      ?.getPresentationContextId();
    const ts = this.transferSyntax(request);
    const report = commitmentReport(archive.index, parsed, requester).then((result) =>
      this.deliverReport(result, contextId, ts),
    );
    void report.catch((error: unknown) =>
      this.context.log.warn({ err: error }, 'storage commitment report not delivered'),
    );
  }

  /** Same association while open, else a new one to the requester's configured peer address. */
  private async deliverReport(report: CommitmentReport, contextId: number | undefined, ts: string) {
    const timeout = this.context.dimse.subOperationTimeoutMs;
    const log = this.connection.log;
    if (this.connection.isOpen && !this.released && contextId !== undefined) {
      const status = await sendCommitmentReport(this.connection, contextId, ts, report, timeout);
      log.info(
        { status, committed: report.committed, failed: report.failed },
        'storage commitment reported',
      );
      return;
    }
    const peer = this.context.dimse.peers.find((p) => p.aeTitle === this.callingAETitle);
    if (!peer) throw new Error('requester gone and not a configured peer');
    const association = await openAssociation(
      peer,
      [
        {
          abstractSyntaxUID: StorageCommitmentPushModelSOPClassUID,
          transferSyntaxUIDs: [ExplicitVRLittleEndian, ImplicitVRLittleEndian],
          requesterIsSCP: true,
        },
      ],
      this.scuOptions(),
    );
    try {
      const accepted = association.connection.negotiated
        ?.getPresentationContexts()
        .find(({ context }) => context.getResult() === 0);
      if (!accepted) throw new Error('peer refused the Storage Commitment context');
      const acceptedTs = accepted.context.getAcceptedTransferSyntaxUid() ?? ImplicitVRLittleEndian;
      const status = await sendCommitmentReport(
        association.connection,
        accepted.id,
        acceptedTs,
        report,
        timeout,
      );
      log.info(
        { status, committed: report.committed, failed: report.failed },
        'storage commitment reported',
      );
    } finally {
      await association.release();
    }
  }
}
