/**
 * Upkeep for PGlite that a PostgreSQL server does with autovacuum. PGlite is PostgreSQL in
 * single-user mode, with no autovacuum, so here the PGlite thread runs `VACUUM (ANALYZE)` itself,
 * when it has been idle for a while after enough writes (statements wait while it runs; run only
 * when nothing is asking, it delays no C-STORE, whose acknowledgement never waits for the index).
 *
 * - ANALYZE: planner statistics. Never analysed, every QIDO search was planned from guesses.
 *   Measured on 2,000 studies and 6,000 instances (never analysed, then analysed): OHIF's study
 *   list p50 4.3-6.0 -> 3.8-3.9 ms, ModalitiesInStudy 6.7-7.2 -> 5.5-6.0 ms. It reads a bounded
 *   sample (30,000 rows a table at the default statistics target).
 * - VACUUM: every ingested instance leaves one dead row version (its pending claim, replaced by
 *   the stored row in an update that changes indexed columns), and each of the instance table's
 *   index entries for it stays until a VACUUM removes it; without one the indexes only grow, and no
 *   page is ever marked all-visible, so index-only scans never skip the heap. VACUUM visits only the
 *   pages written since the last one (the visibility map) and skips the index pass when few pages
 *   hold dead rows, so its cost follows what was written, not the size of the archive. Measured
 *   (in-process, bench corpus headers): after 1,000 instances ingested into an index of 200,000,
 *   80 ms (1.3 s with ANALYZE); after 2,002 into an empty one, 128 ms. The first run on an archive
 *   never vacuumed, each of its 200,000 rows with a dead version: 2.4 s, once. Transaction IDs:
 *   ingest uses about 0.26 per instance (statements that arrive together share one), so wraparound
 *   is billions of instances away; VACUUM freezes old rows all the same.
 */

export interface MaintenancePolicy {
  /** Writes (statements other than a plain SELECT, and transactions) that call for a run. */
  afterWrites: number;
  /** Quiet time before it runs, ms: no statement in flight or arriving. */
  idleMs: number;
}

export const DEFAULT_MAINTENANCE_POLICY: MaintenancePolicy = { afterWrites: 1000, idleMs: 2000 };

/** Whether a statement may write: anything but a statement starting with SELECT or SHOW. */
export function mayWrite(text: string): boolean {
  return !/^\s*(SELECT|SHOW)\b/i.test(text);
}

/**
 * Counts writes and activity; `run` is called (never twice at once) once the policy is met. A
 * started thread owes one run: the directory may hold data from before, never vacuumed or analysed.
 */
export class IdleMaintenance {
  private writes: number;
  private inFlight = 0;
  private lastActivity = Date.now();
  private running = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly run: () => Promise<void>,
    private readonly policy: MaintenancePolicy = DEFAULT_MAINTENANCE_POLICY,
    /** Busy in a way requests do not show (a transaction left open between its statements). */
    private readonly busy: () => boolean = () => false,
  ) {
    this.writes = policy.afterWrites;
    this.timer = setInterval(() => void this.check(), Math.max(50, policy.idleMs / 4));
    this.timer.unref();
  }

  /** A request arrives; `wrote` when it may write. Call `done` when it is answered. */
  begin(wrote: boolean): void {
    this.inFlight++;
    this.lastActivity = Date.now();
    if (wrote) this.writes++;
  }

  done(): void {
    this.inFlight--;
    this.lastActivity = Date.now();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async check(): Promise<void> {
    if (this.running || this.inFlight > 0 || this.writes < this.policy.afterWrites) return;
    if (this.busy()) return;
    if (Date.now() - this.lastActivity < this.policy.idleMs) return;
    this.running = true;
    this.writes = 0;
    try {
      await this.run();
    } catch {
      this.writes = this.policy.afterWrites; // try again at the next quiet moment
    } finally {
      this.running = false;
      this.lastActivity = Date.now();
    }
  }
}
