/**
 * What the harness needs from a receiver under test (Lightbox or Orthanc): where to send, which
 * process to measure, when everything sent is indexed, and an independent count at the end.
 */

/** The receivers the harness can start. */
export type TargetName = 'lightbox' | 'orthanc';

export interface ServerUnderTest {
  target: TargetName;
  /** Called AE title (storescu -aec). */
  aeTitle: string;
  /** HTTP origin on 127.0.0.1 (Lightbox's viewer-api, Orthanc's REST API and its plugins). */
  httpBase: string;
  /** DICOM port on 127.0.0.1. */
  dicomPort: number;
  /** The server process, for /proc measurements (peak RSS, CPU). */
  pid: number;
  /**
   * Resolves with the milliseconds since `t0` at which `instances` instances are indexed, or null
   * when the server indexes before it acknowledges (then indexed == acknowledged). Runs while the
   * senders run; the harness aborts `signal` when a sender fails.
   */
  indexedAt(instances: number, t0: number, signal: AbortSignal): Promise<number | null>;
  /** False once the process has exited. */
  alive(): boolean;
  /** The end of the server's own output (for failure reports). */
  logTail(): Promise<string>;
  /** Stops the server (gracefully) and counts indexed instances with the server's own index. */
  stopAndCount(): Promise<{ instances: number; detail: Record<string, number> }>;
  /** Kills the server if still running and removes its temporary directory. */
  dispose(): Promise<void>;
}
