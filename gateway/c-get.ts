/**
 * C-GET SCP (PS3.4 §C.4.3): the C-STORE sub-operations travel on the requester's own association,
 * over the storage presentation contexts for which it took the SCP role, each instance in its stored
 * transfer syntax (PS3.4 §C.4.3.3.1: no matching context → that sub-operation fails).
 */
import type { DicomJson } from '../core/archive/index-store.js';
import type { DimseConnection } from './dimse-connection.js';
import type { QueryModel } from './query-identifier.js';
import { findRetrieveInstances, retrieveInstances, type RetrieveContext } from './retrieve.js';
import { storeSubOperation } from './store-sub-operation.js';

export async function cGet(
  ctx: RetrieveContext,
  connection: DimseConnection,
  model: QueryModel,
  identifier: DicomJson,
): Promise<void> {
  const instances = await findRetrieveInstances(ctx, model, identifier);
  if (!instances) return;
  await retrieveInstances(
    ctx,
    instances,
    (instance) =>
      storeSubOperation(connection, ctx.objects, instance, {
        timeoutMs: ctx.subOperationTimeoutMs,
        requesterIsSCP: true,
      }),
    () => connection.keepAlive(),
  );
}
