/**
 * C-MOVE SCP (PS3.4 §C.4.2): Lightbox opens an association to the Move Destination (a configured
 * peer the requester may send to, gateway/principal.ts; otherwise 0xA801), proposing each stored
 * (SOP Class, transfer syntax) pair of the instances as its own presentation context, and C-STOREs
 * each instance unchanged. A pair the peer does not accept fails its instances: no transcoding.
 */
import type { DimsePeerConfig } from '../config/schema.js';
import type { DicomJson, StoredInstance } from '../core/archive/index-store.js';
import { QueryRetrieveStatus } from './dimse-status.js';
import type { QueryModel } from './query-identifier.js';
import { findRetrieveInstances, retrieveInstances, type RetrieveContext } from './retrieve.js';
import {
  openAssociation,
  type ProposedPresentationContext,
  type ScuOptions,
} from './scu-association.js';
import { storeSubOperation } from './store-sub-operation.js';

export interface MoveRequest {
  /** The configured peer, or undefined when MoveDestination is unknown or not allowed. */
  destination: DimsePeerConfig | undefined;
  originator: { aeTitle: string; messageId: number };
  /** Keeps the requester's association alive while the sub-operations run. */
  keepAlive(): void;
}

export async function cMove(
  ctx: RetrieveContext,
  request: MoveRequest,
  model: QueryModel,
  identifier: DicomJson,
  scu: ScuOptions,
): Promise<void> {
  const { destination } = request;
  if (!destination) {
    ctx.respond({
      status: QueryRetrieveStatus.RefusedMoveDestinationUnknown,
      errorComment: 'Move destination unknown',
    });
    return;
  }
  const instances = await findRetrieveInstances(ctx, model, identifier);
  if (!instances) return;
  if (instances.length === 0) {
    await retrieveInstances(ctx, instances, () => Promise.resolve(0));
    return;
  }
  let association;
  try {
    association = await openAssociation(destination, storedContexts(instances), scu);
  } catch (error) {
    ctx.log.warn(
      { err: error, destination: destination.aeTitle },
      'C-MOVE destination unreachable',
    );
    ctx.respond({
      status: QueryRetrieveStatus.RefusedUnableToPerformSubOperations,
      errorComment: 'Move destination unreachable',
    });
    return;
  }
  const { connection } = association;
  try {
    await retrieveInstances(
      ctx,
      instances,
      (instance) =>
        storeSubOperation(connection, ctx.objects, instance, {
          timeoutMs: ctx.subOperationTimeoutMs,
          moveOriginator: request.originator,
        }),
      request.keepAlive,
    );
  } finally {
    await association.release();
  }
}

/** One context per distinct (SOP Class, transfer syntax) of the instances, stored order. */
export function storedContexts(
  instances: readonly StoredInstance[],
): ProposedPresentationContext[] {
  const seen = new Map<string, ProposedPresentationContext>();
  for (const { SOPClassUID, TransferSyntaxUID } of instances) {
    const key = `${SOPClassUID} ${TransferSyntaxUID}`;
    if (!seen.has(key)) {
      seen.set(key, { abstractSyntaxUID: SOPClassUID, transferSyntaxUIDs: [TransferSyntaxUID] });
    }
  }
  return [...seen.values()];
}
