/**
 * THE configuration schema of Lightbox: every process (gateway, worker, viewer-api, and the embedded
 * default that runs all three) parses its settings through this one zod schema. Each default is stated
 * here once. Nothing in core/ reads the environment; components receive their slice of the parsed
 * Config as a constructor argument.
 */
import { z } from 'zod';

/** PS3.8 §9.3.1: an AE title is 1–16 characters of the default repertoire, no backslash or control characters. */
export const AETitle = z
  .string()
  .trim()
  .min(1)
  .max(16)
  .regex(/^[\x20-\x5b\x5d-\x7e]+$/, 'AE title: printable ASCII without backslash');

const Port = z.coerce.number().int().min(0).max(65535);
const Bytes = z.coerce.number().int().positive();

export const GatewayConfig = z.object({
  /** Our own AE title (the Called AE Title that peers must use). */
  aeTitle: AETitle.default('LIGHTBOX'),
  host: z.string().min(1).default('127.0.0.1'),
  port: Port.default(11112),
  /**
   * Calling AE titles allowed to associate. Empty list = accept any calling AE (embedded default for a
   * single workstation); production sets the modalities and PACS it knows.
   */
  allowedCallingAETitles: z.array(AETitle).default([]),
  /** Reject associations whose Called AE Title is not ours (PS3.8 A-ASSOCIATE-RJ reason 7). */
  checkCalledAETitle: z.boolean().default(true),
  /**
   * Maximum PDU length we announce (PS3.8 §9.3.1). dcmjs-dimse would echo "unlimited"; a bounded value
   * also bounds the memory one association can pin while a PDU is reassembled.
   */
  maxPduLength: z.coerce.number().int().min(4096).max(4_194_304).default(262_144),
  maxAssociations: z.coerce.number().int().min(1).max(10_000).default(64),
  /** Instances above this size are refused with 0xA700 and nothing is kept. */
  maxInstanceBytes: Bytes.default(8 * 1024 ** 3),
  associationTimeoutMs: z.coerce.number().int().positive().default(60_000),
  pduTimeoutMs: z.coerce.number().int().positive().default(60_000),
});

export const SpoolConfig = z.object({
  /** Where C-STORE and STOW-RS write instances before they are acknowledged. Shared with the worker. */
  directory: z.string().min(1).default('./data/spool'),
  /** fsync each spooled file and its directory before acknowledging (turn off only for benchmarks on tmpfs). */
  fsync: z.boolean().default(true),
});

export const QueueConfig = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('in-process'),
    /**
     * Jobs in parallel. Their index statements that wait together go to PGlite as one transaction
     * (pglite-thread-client.ts): 16 rather than 4 made 2,002 instances over four associations
     * indexed as soon as acknowledged (65-74 -> 79-90 MB/s; docs/benchmarks.md).
     */
    concurrency: z.coerce.number().int().min(1).max(64).default(16),
    attempts: z.coerce.number().int().min(1).default(5),
    backoffMs: z.coerce.number().int().min(0).default(500),
  }),
  z.object({
    kind: z.literal('bullmq'),
    redisUrl: z.string().url(),
    /** Key prefix: each deployment (and each test run) has its own. */
    prefix: z
      .string()
      .min(1)
      .regex(/^[^:]+$/, 'no ":" in the prefix')
      .default('lightbox'),
    queueName: z.string().min(1).default('ingest'),
    concurrency: z.coerce.number().int().min(1).max(256).default(8),
    attempts: z.coerce.number().int().min(1).default(10),
    backoffMs: z.coerce.number().int().min(0).default(1000),
    /**
     * A ready/ entry older than this with no job (its enqueue failed: the sender was told to retry)
     * is queued again by the workers' reconciliation.
     */
    reconcileAfterMs: z.coerce.number().int().min(1000).default(120_000),
  }),
]);

export const ObjectsConfig = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('fs'),
    directory: z.string().min(1).default('./data/objects'),
  }),
  z.object({
    kind: z.literal('s3'),
    endPoint: z.string().min(1),
    port: Port.optional(),
    useSSL: z.boolean().default(true),
    accessKey: z.string().min(1),
    secretKey: z.string().min(1),
    region: z.string().default('us-east-1'),
    bucket: z.string().min(3).max(63),
    /** Parts above this size go multipart (minio client); a size is always passed, so nothing buffers. */
    partSize: Bytes.default(64 * 1024 * 1024),
  }),
]);

export const IndexConfig = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('pglite'),
    /** PGlite data directory. Exactly one process may own it. */
    directory: z.string().min(1).default('./data/index'),
  }),
  z.object({
    kind: z.literal('postgres'),
    databaseUrl: z.string().min(1),
    poolSize: z.coerce.number().int().min(1).max(200).default(10),
  }),
]);

export const ViewerApiConfig = z.object({
  host: z.string().min(1).default('127.0.0.1'),
  port: Port.default(8042),
  /**
   * Bearer token of the archive reader (reads every study; STOW-RS too). Until grants exist this is
   * the only credential: without one every DICOMweb request is refused (401). The embedded default
   * generates one at first start (bin/start-lightbox.ts) and keeps it beside the spool directory.
   */
  apiToken: z.string().min(32, 'apiToken: at least 32 characters').optional(),
  /**
   * Base URL the API is reached at from outside (behind a reverse proxy), used for RetrieveURL and
   * BulkDataURI; default: the request's own scheme and Host.
   */
  publicUrl: z.string().url().optional(),
  /**
   * Origins allowed to call the API from a browser (CORS). '*' allows any: credentials are bearer
   * tokens the page sends explicitly, never cookies, so no origin gains ambient authority.
   */
  corsOrigins: z.array(z.string().min(1)).default(['*']),
  /** STOW-RS: instances above this size fail (FailureReason A700) and nothing is kept. */
  maxInstanceBytes: Bytes.default(8 * 1024 ** 3),
  /**
   * Rendered and thumbnail images are decoded and encoded on this many worker threads, never on the
   * event loop that answers QIDO and WADO.
   */
  renderThreads: z.coerce.number().int().min(1).max(64).default(1),
  /** Rendering jobs that may wait for a thread; beyond that a rendered request gets 503 + Retry-After. */
  renderQueue: z.coerce.number().int().min(0).max(10_000).default(16),
});

/**
 * An organisation: an imaging provider whose modalities and PACS send to Lightbox. Studies belong to
 * the organisation whose AE title sent them (the association's Calling AE Title, or the STOW-RS
 * caller's organisation). AE titles not listed under any organisation belong to none.
 */
export const OrganisationConfig = z.object({
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'organisation id: lower-case letters, digits and "-"'),
  name: z.string().trim().min(1).max(200),
  aeTitles: z.array(AETitle).default([]),
});

/**
 * Bearer tokens (JWTs, verified with jose). Tokens are accepted when signed by the local signing
 * key (embedded mode: generated at first start, kept 0600 in the data directory; the CLI and the
 * share-link unlock sign with it) or by a key of the JWKS URL / configured public keys (services
 * mode, an external identity provider), with this issuer and audience. Claims: `sub` (account id),
 * `kind` (patient | doctor | organisation | organisation-admin | platform-admin) and
 * `organisationId` for the organisation kinds.
 */
export const AuthConfig = z.object({
  issuer: z.string().min(1).default('lightbox'),
  audience: z.string().min(1).default('lightbox'),
  /** JWKS of an external identity provider (RFC 7517), fetched and cached by jose. */
  jwksUrl: z.string().url().optional(),
  /** Public keys of an external issuer: PEM (SPKI) or JWK JSON strings. */
  publicKeys: z.array(z.string().min(1)).default([]),
  /** The local signing key (a private JWK); default: auth-signing-key.json in the data directory. */
  signingKeyFile: z.string().min(1).optional(),
  /** Lifetime of tokens the CLI mints (`lightbox token`), seconds. */
  tokenTtlSeconds: z.coerce
    .number()
    .int()
    .min(60)
    .max(366 * 86_400)
    .default(8 * 3600),
  /** Lifetime of the access token a share link's PIN unlocks, seconds. */
  shareLinkSessionSeconds: z.coerce.number().int().min(60).max(86_400).default(3600),
  /** Clock skew tolerated on exp/nbf, seconds. */
  clockToleranceSeconds: z.coerce.number().int().min(0).max(300).default(30),
});

/**
 * Operations endpoints (GET /metrics in the Prometheus text format, /healthz, /readyz). viewer-api and
 * the embedded mode serve them on the HTTP port; the gateway and each worker open this small listener
 * of their own. Unset port: 9464 for the gateway, 9465 for a worker (one of each per host; set
 * OPS_PORT per process to run more on one host, 0 for a free port).
 */
export const OpsConfig = z.object({
  enabled: z.boolean().default(true),
  host: z.string().min(1).default('127.0.0.1'),
  port: Port.optional(),
});

/**
 * A DICOM peer (PACS, workstation) Lightbox knows by AE title: where C-MOVE sends to it and where a
 * storage commitment result goes when its association has closed. `access` says what it may query
 * and retrieve (the DIMSE edge resolves it to a principal; core/grants decides): 'archive' is the
 * operator's own PACS (reads every study, as the archive reader); 'organisation' is an imaging
 * provider's PACS, which sees what its organisation (organisations[].aeTitles) sent.
 */
export const DimsePeerConfig = z.object({
  aeTitle: AETitle,
  host: z.string().min(1),
  port: Port.refine((p) => p > 0, 'port: 1–65535'),
  access: z.enum(['archive', 'organisation']),
});

export const DimseConfig = z.object({
  peers: z
    .array(DimsePeerConfig)
    .default([])
    .refine(
      (list) => new Set(list.map((p) => p.aeTitle)).size === list.length,
      'peer AE titles are unique',
    ),
  /** Connect + association negotiation timeout for associations Lightbox opens (C-MOVE, N-EVENT-REPORT). */
  connectTimeoutMs: z.coerce.number().int().positive().default(10_000),
  /** How long a C-STORE sub-operation may wait for its response before it counts as failed. */
  subOperationTimeoutMs: z.coerce.number().int().positive().default(120_000),
});

/**
 * Data rights of patients (GDPR): where exports are built, the key of erasure tombstones, and the
 * storage regions a patient record may be assigned to. With no regions, every instance goes to
 * `objects` as before.
 */
export const DataRightsConfig = z.object({
  /** Export ZIP files (with DICOMDIR) are built here, then downloaded. */
  exportDirectory: z.string().min(1).default('./data/exports'),
  /**
   * Key of the HMAC-SHA-256 that tombstones keep instead of patient identities and UIDs. Without it
   * a plain SHA-256 is kept (a Patient ID can then be confirmed by someone who guesses it).
   */
  tombstoneKey: z.string().min(16).optional(),
  /**
   * Also discard new studies of an erased patient (same IssuerOfPatientID + PatientID). Off by
   * default: erasure removes what was held, it does not stop future care being archived.
   */
  discardErasedPatients: z.boolean().default(false),
  /** Region id → that region's object store (fs directory or s3 bucket). */
  regions: z
    .record(
      z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'region id: a-z, 0-9 and "-"'),
      ObjectsConfig,
    )
    .default({}),
});

export const LogConfig = z.object({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export const Config = z.object({
  gateway: GatewayConfig.default(GatewayConfig.parse({})),
  spool: SpoolConfig.default(SpoolConfig.parse({})),
  queue: QueueConfig.default({ kind: 'in-process', concurrency: 16, attempts: 5, backoffMs: 500 }),
  objects: ObjectsConfig.default({ kind: 'fs', directory: './data/objects' }),
  index: IndexConfig.default({ kind: 'pglite', directory: './data/index' }),
  viewerApi: ViewerApiConfig.default(ViewerApiConfig.parse({})),
  organisations: z
    .array(OrganisationConfig)
    .default([])
    .refine(
      (list) =>
        new Set(list.flatMap((o) => o.aeTitles)).size === list.flatMap((o) => o.aeTitles).length,
      'an AE title belongs to one organisation only',
    )
    .refine(
      (list) => new Set(list.map((o) => o.id)).size === list.length,
      'organisation ids are unique',
    ),
  auth: AuthConfig.default(AuthConfig.parse({})),
  ops: OpsConfig.default(OpsConfig.parse({})),
  dimse: DimseConfig.default(DimseConfig.parse({})),
  dataRights: DataRightsConfig.default(DataRightsConfig.parse({})),
  log: LogConfig.default(LogConfig.parse({})),
});

export type Config = z.infer<typeof Config>;
export type GatewayConfig = z.infer<typeof GatewayConfig>;
export type SpoolConfig = z.infer<typeof SpoolConfig>;
export type QueueConfig = z.infer<typeof QueueConfig>;
export type ObjectsConfig = z.infer<typeof ObjectsConfig>;
export type IndexConfig = z.infer<typeof IndexConfig>;
export type ViewerApiConfig = z.infer<typeof ViewerApiConfig>;
export type OrganisationConfig = z.infer<typeof OrganisationConfig>;
export type LogConfig = z.infer<typeof LogConfig>;
export type DataRightsConfig = z.infer<typeof DataRightsConfig>;
export type AuthConfig = z.infer<typeof AuthConfig>;
export type OpsConfig = z.infer<typeof OpsConfig>;
export type DimseConfig = z.infer<typeof DimseConfig>;
export type DimsePeerConfig = z.infer<typeof DimsePeerConfig>;
