/**
 * The sub-operation loop shared by C-MOVE and C-GET (PS3.4 §C.4.2.3, §C.4.3.3): one C-STORE per
 * instance, in order; after each, a Pending response with the Number of Remaining / Completed /
 * Failed / Warning Sub-operations; a C-CANCEL stops before the next one. The final response is the
 * caller's (it knows the service's command).
 */
import type { StoredInstance } from '../core/archive/index-store.js';
import type { Logger } from '../core/log.js';

export interface SubOperationCounts {
  remaining: number;
  completed: number;
  failed: number;
  warning: number;
}

export interface SubOperationsResult {
  counts: SubOperationCounts;
  /** SOPInstanceUIDs of failed sub-operations: the final response's FailedSOPInstanceUIDList. */
  failedSOPInstanceUIDs: string[];
  cancelled: boolean;
}

/** PS3.7 §C: 0x0000 success, 0xB000/0xB006/0xB007 warnings; anything else is a failure. */
function outcome(status: number): 'completed' | 'warning' | 'failed' {
  if (status === 0x0000) return 'completed';
  return (status & 0xf000) === 0xb000 ? 'warning' : 'failed';
}

export async function runSubOperations(
  instances: readonly StoredInstance[],
  store: (instance: StoredInstance) => Promise<number>,
  hooks: {
    cancelled(): boolean;
    progress(counts: SubOperationCounts): void;
    log: Logger;
  },
): Promise<SubOperationsResult> {
  const counts: SubOperationCounts = {
    remaining: instances.length,
    completed: 0,
    failed: 0,
    warning: 0,
  };
  const failedSOPInstanceUIDs: string[] = [];
  for (const instance of instances) {
    if (hooks.cancelled()) return { counts, failedSOPInstanceUIDs, cancelled: true };
    let result: ReturnType<typeof outcome>;
    try {
      const status = await store(instance);
      result = outcome(status);
      if (result !== 'completed')
        hooks.log.warn({ status }, 'C-STORE sub-operation not successful');
    } catch (error) {
      hooks.log.warn({ err: error }, 'C-STORE sub-operation failed');
      result = 'failed';
    }
    counts.remaining -= 1;
    counts[result] += 1;
    if (result === 'failed') failedSOPInstanceUIDs.push(instance.SOPInstanceUID);
    if (counts.remaining > 0) hooks.progress({ ...counts });
  }
  return { counts, failedSOPInstanceUIDs, cancelled: false };
}
