/**
 * Prometheus metrics of one Lightbox process (prom-client), on a registry of its own so that tests and
 * the embedded mode never share global state. Labels are closed sets chosen here (outcome, reason,
 * route pattern…): never a UID, an AE title, a patient attribute or a URL, so that no patient data and
 * no unbounded label set reaches the scraper.
 *
 * Rates are the scraper's business: instances/s is `rate(lightbox_instances_received_total[1m])`.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** How an instance came in: DIMSE C-STORE or DICOMweb STOW-RS. */
export type IngestVia = 'c-store' | 'stow-rs';

export type AssociationRejection = 'called-ae' | 'calling-ae' | 'max-associations';

export interface LightboxMetrics {
  readonly registry: Registry;
  /** An association was accepted (A-ASSOCIATE-AC). */
  associationAccepted(): void;
  associationRejected(reason: AssociationRejection): void;
  /** The answer given for one received instance, and its size. */
  instanceReceived(via: IngestVia, accepted: boolean, bytes: number): void;
  /** The worker's outcome for one job. */
  instanceStored(outcome: string, bytes: number): void;
  /** A job run that is a retry of an earlier failed run. */
  jobRetried(): void;
  /** A job that will not be retried (moved to the spool's failed/). */
  jobFailed(code: string): void;
  httpRequest(method: string, route: string, status: number, seconds: number): void;
  /** Gauges read at scrape time (open associations, queue depth). */
  observe(sources: { associations?: () => number; queueDepth?: () => Promise<number> }): void;
  /** The Prometheus text exposition format. */
  render(): Promise<string>;
  readonly contentType: string;
}

const STORE_OUTCOMES = new Set(['stored', 'duplicate', 'conflict', 'already-archived']);
const ERROR_CODES = /^[A-Za-z]{1,40}$/;

export function createMetrics(process: string): LightboxMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ process });
  collectDefaultMetrics({ register: registry, prefix: 'lightbox_' });
  const registers = [registry];
  const sources: { associations?: () => number; queueDepth?: () => Promise<number> } = {};

  const associationsActive = new Gauge({
    name: 'lightbox_dimse_associations_active',
    help: 'DIMSE associations open now',
    registers,
    collect() {
      if (sources.associations) this.set(sources.associations());
    },
  });
  void associationsActive;
  const associationsTotal = new Counter({
    name: 'lightbox_dimse_associations_total',
    help: 'DIMSE associations accepted',
    registers,
  });
  const associationsRejected = new Counter({
    name: 'lightbox_dimse_associations_rejected_total',
    help: 'DIMSE associations refused (A-ASSOCIATE-RJ, or connection closed at maxAssociations)',
    labelNames: ['reason'],
    registers,
  });
  const received = new Counter({
    name: 'lightbox_instances_received_total',
    help: 'Instances received, by entry point and answer (accepted = acknowledged as stored)',
    labelNames: ['via', 'outcome'],
    registers,
  });
  const receivedBytes = new Counter({
    name: 'lightbox_received_bytes_total',
    help: 'Bytes of instances received, by entry point (refused ones included)',
    labelNames: ['via'],
    registers,
  });
  const stored = new Counter({
    name: 'lightbox_instances_stored_total',
    help: 'Ingest jobs archived by the worker, by outcome',
    labelNames: ['outcome'],
    registers,
  });
  const storedBytes = new Counter({
    name: 'lightbox_stored_bytes_total',
    help: 'Bytes written to the object store by the worker (new instances and conflicts)',
    registers,
  });
  const queueDepth = new Gauge({
    name: 'lightbox_queue_depth',
    help: 'Ingest jobs waiting, running or waiting for a retry (-1: the queue does not answer)',
    registers,
    async collect() {
      if (!sources.queueDepth) return;
      this.set(await sources.queueDepth().catch(() => -1));
    },
  });
  void queueDepth;
  const retries = new Counter({
    name: 'lightbox_ingest_job_retries_total',
    help: 'Ingest job runs that retry an earlier failed run',
    registers,
  });
  const failures = new Counter({
    name: 'lightbox_ingest_job_failures_total',
    help: 'Ingest jobs failed for good (their file is in the spool failed/ folder), by error code',
    labelNames: ['code'],
    registers,
  });
  const http = new Histogram({
    name: 'lightbox_http_request_duration_seconds',
    help: 'HTTP request latency by route pattern (never the URL), method and status class',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });

  return {
    registry,
    contentType: registry.contentType,
    associationAccepted: () => associationsTotal.inc(),
    associationRejected: (reason) => associationsRejected.inc({ reason }),
    instanceReceived(via, accepted, bytes) {
      received.inc({ via, outcome: accepted ? 'accepted' : 'refused' });
      receivedBytes.inc({ via }, bytes);
    },
    instanceStored(outcome, bytes) {
      stored.inc({ outcome: STORE_OUTCOMES.has(outcome) ? outcome : 'other' });
      if (outcome === 'stored' || outcome === 'conflict') storedBytes.inc(bytes);
    },
    jobRetried: () => retries.inc(),
    jobFailed: (code) => failures.inc({ code: ERROR_CODES.test(code) ? code : 'Internal' }),
    httpRequest(method, route, status, seconds) {
      http.observe({ method, route, status: `${Math.floor(status / 100)}xx` }, seconds);
    },
    observe(more) {
      Object.assign(sources, more);
    },
    render: () => registry.metrics(),
  };
}
