/**
 * What C-MOVE and C-GET share (PS3.4 §C.4.2, §C.4.3): find the instances the identifier names
 * within the principal's scope (in SQL), run the C-STORE sub-operations, and end with the final
 * response: Success, B000 (some failed), A702 (all failed) or Cancel, with the counts and the
 * FailedSOPInstanceUIDList.
 */
import type { IndexStore, StoredInstance } from '../core/archive/index-store.js';
import type { ObjectStore } from '../core/archive/object-store.js';
import type { StudyScope } from '../core/grants/grants.js';
import type { Logger } from '../core/log.js';
import type { DicomJson } from '../core/archive/index-store.js';
import { QueryRetrieveStatus, queryRetrieveFailure, subOperationsStatus } from './dimse-status.js';
import type { QueryModel } from './query-identifier.js';
import { parseRetrieveIdentifier } from './retrieve-identifier.js';
import { runSubOperations, type SubOperationCounts } from './sub-operations.js';

export interface RetrieveResponse {
  status: number;
  counts?: SubOperationCounts;
  /** Final responses only: the identifier with FailedSOPInstanceUIDList (0008,0058). */
  identifier?: DicomJson;
  errorComment?: string;
}

export interface RetrieveContext {
  index: IndexStore;
  objects: ObjectStore;
  scope: StudyScope;
  subOperationTimeoutMs: number;
  log: Logger;
  /** A C-CANCEL arrived, or the requester's association is gone. */
  cancelled(): boolean;
  respond(response: RetrieveResponse): void;
}

export type StoreFunction = (instance: StoredInstance) => Promise<number>;

/** The instances to send, or undefined after a failure response was sent. */
export async function findRetrieveInstances(
  ctx: RetrieveContext,
  model: QueryModel,
  identifier: DicomJson,
): Promise<StoredInstance[] | undefined> {
  try {
    const keys = parseRetrieveIdentifier(identifier, model);
    return await ctx.index.findInstancesToRetrieve(keys, ctx.scope);
  } catch (error) {
    ctx.respond(queryRetrieveFailure(error, true));
    return undefined;
  }
}

/** Runs the sub-operations with a Pending response after each, then the final response. */
export async function retrieveInstances(
  ctx: RetrieveContext,
  instances: readonly StoredInstance[],
  store: StoreFunction,
  onProgress: () => void = () => undefined,
): Promise<void> {
  const result = await runSubOperations(instances, store, {
    cancelled: ctx.cancelled,
    progress: (counts) => {
      onProgress();
      ctx.respond({ status: QueryRetrieveStatus.Pending, counts });
    },
    log: ctx.log,
  });
  const { counts, failedSOPInstanceUIDs, cancelled } = result;
  const identifier: DicomJson | undefined =
    failedSOPInstanceUIDs.length > 0 || (cancelled && counts.remaining > 0)
      ? { '00080058': { vr: 'UI', Value: failedSOPInstanceUIDs } }
      : undefined;
  if (cancelled) {
    ctx.respond({ status: QueryRetrieveStatus.Cancel, counts, identifier });
    return;
  }
  const { remaining: _, ...final } = counts;
  ctx.respond({
    status: subOperationsStatus(final),
    counts: { remaining: 0, ...final },
    identifier,
  });
}
