/**
 * loadConfig: the one place that reads process.env and the config file. Precedence: schema defaults
 * ← JSON file (LIGHTBOX_CONFIG) ← environment. A bad setting throws ConfigError listing every issue,
 * before any port opens.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { Config } from './schema.js';

export class ConfigError extends Error {
  readonly code = 'InvalidConfig';
  constructor(readonly issues: string[]) {
    super(`Invalid Lightbox configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;
type Json = Record<string, unknown>;

/** Environment variables, by the config path they set. Listed once so README and code agree. */
export const ENVIRONMENT = {
  LIGHTBOX_CONFIG: 'path of a JSON config file (same shape as config/lightbox.example.json)',
  LIGHTBOX_DATA_DIR:
    'embedded mode: directory holding spool/, objects/ and index/ (default ./data)',
  DICOM_AE_TITLE: 'gateway.aeTitle',
  DICOM_HOST: 'gateway.host',
  DICOM_PORT: 'gateway.port',
  DICOM_ALLOWED_CALLING_AE_TITLES: 'gateway.allowedCallingAETitles, comma separated',
  DICOM_MAX_PDU_LENGTH: 'gateway.maxPduLength',
  DICOM_MAX_ASSOCIATIONS: 'gateway.maxAssociations',
  DICOM_MAX_INSTANCE_BYTES: 'gateway.maxInstanceBytes',
  SPOOL_DIR: 'spool.directory',
  SPOOL_FSYNC: 'spool.fsync (true|false)',
  REDIS_URL: 'switches the queue to BullMQ on this Redis',
  REDIS_PREFIX: 'queue.prefix (BullMQ key prefix)',
  QUEUE_CONCURRENCY: 'queue.concurrency (worker jobs in parallel)',
  DATABASE_URL: 'switches the index to PostgreSQL (pg)',
  S3_ENDPOINT: 'switches the object store to S3/MinIO (host name)',
  S3_PORT: 'objects.port',
  S3_USE_SSL: 'objects.useSSL (true|false)',
  S3_ACCESS_KEY: 'objects.accessKey',
  S3_SECRET_KEY: 'objects.secretKey',
  S3_BUCKET: 'objects.bucket',
  S3_REGION: 'objects.region',
  HTTP_HOST: 'viewerApi.host',
  HTTP_PORT: 'viewerApi.port',
  HTTP_PUBLIC_URL: 'viewerApi.publicUrl (base URL behind a reverse proxy)',
  HTTP_CORS_ORIGINS: 'viewerApi.corsOrigins, comma separated (default *)',
  HTTP_MAX_INSTANCE_BYTES: 'viewerApi.maxInstanceBytes (STOW-RS)',
  LIGHTBOX_API_TOKEN: 'viewerApi.apiToken (bearer token of the archive reader, 32+ characters)',
  AUTH_ISSUER: 'auth.issuer (JWT iss)',
  AUTH_AUDIENCE: 'auth.audience (JWT aud)',
  AUTH_JWKS_URL: 'auth.jwksUrl (JWKS of an external identity provider)',
  AUTH_SIGNING_KEY_FILE: 'auth.signingKeyFile (local JWT signing key, a private JWK)',
  HTTP_RENDER_THREADS: 'viewerApi.renderThreads (worker threads rendering images, default 1)',
  HTTP_RENDER_QUEUE: 'viewerApi.renderQueue (rendering jobs waiting before 503, default 16)',
  LOG_LEVEL: 'log.level',
  LIGHTBOX_EXPORT_DIR: 'dataRights.exportDirectory (patient export ZIP files)',
  LIGHTBOX_TOMBSTONE_KEY:
    'dataRights.tombstoneKey (HMAC key of erasure tombstones, 16+ characters)',
  OPS_ENABLED: 'ops.enabled (true|false): the gateway and worker ops listener',
  OPS_HOST: 'ops.host (gateway and worker: /metrics, /healthz, /readyz)',
  OPS_PORT: 'ops.port (default 9464 gateway, 9465 worker; 0 = any free port)',
} as const;

function bool(value: string | undefined): boolean | string | undefined {
  if (value === undefined) return undefined;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  return value; // left for zod to reject with a clear message
}

function list(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Drops undefined leaves so that an absent variable never overrides the file or a default. */
function prune(value: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const inner = prune(v as Json);
      if (Object.keys(inner).length > 0) out[k] = inner;
    } else out[k] = v;
  }
  return out;
}

function merge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    const bothObjects =
      b &&
      typeof b === 'object' &&
      !Array.isArray(b) &&
      v &&
      typeof v === 'object' &&
      !Array.isArray(v);
    out[k] = bothObjects ? merge(b as Json, v as Json) : v;
  }
  return out;
}

/** A variable set to '' is unset (`DICOM_PORT=` must not mean port 0, nor `DICOM_HOST=` every interface). */
function withoutEmpty(env: Env): Env {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
}

function fromEnvironment(rawEnv: Env): Json {
  const env = withoutEmpty(rawEnv);
  const dataDir = env.LIGHTBOX_DATA_DIR;
  const inData = (sub: string) => (dataDir ? path.join(dataDir, sub) : undefined);
  return prune({
    gateway: {
      aeTitle: env.DICOM_AE_TITLE,
      host: env.DICOM_HOST,
      port: env.DICOM_PORT,
      allowedCallingAETitles: list(env.DICOM_ALLOWED_CALLING_AE_TITLES),
      maxPduLength: env.DICOM_MAX_PDU_LENGTH,
      maxAssociations: env.DICOM_MAX_ASSOCIATIONS,
      maxInstanceBytes: env.DICOM_MAX_INSTANCE_BYTES,
    },
    spool: { directory: env.SPOOL_DIR ?? inData('spool'), fsync: bool(env.SPOOL_FSYNC) },
    queue: env.REDIS_URL
      ? {
          kind: 'bullmq',
          redisUrl: env.REDIS_URL,
          prefix: env.REDIS_PREFIX,
          concurrency: env.QUEUE_CONCURRENCY,
        }
      : { concurrency: env.QUEUE_CONCURRENCY },
    objects: env.S3_ENDPOINT
      ? {
          kind: 's3',
          endPoint: env.S3_ENDPOINT,
          port: env.S3_PORT,
          useSSL: bool(env.S3_USE_SSL),
          accessKey: env.S3_ACCESS_KEY,
          secretKey: env.S3_SECRET_KEY,
          bucket: env.S3_BUCKET,
          region: env.S3_REGION,
        }
      : { directory: inData('objects') },
    index: env.DATABASE_URL
      ? { kind: 'postgres', databaseUrl: env.DATABASE_URL }
      : { directory: inData('index') },
    viewerApi: {
      host: env.HTTP_HOST,
      port: env.HTTP_PORT,
      publicUrl: env.HTTP_PUBLIC_URL,
      corsOrigins: list(env.HTTP_CORS_ORIGINS),
      maxInstanceBytes: env.HTTP_MAX_INSTANCE_BYTES,
      apiToken: env.LIGHTBOX_API_TOKEN || undefined, // set but empty (compose) = not set
      renderThreads: env.HTTP_RENDER_THREADS,
      renderQueue: env.HTTP_RENDER_QUEUE,
    },
    auth: {
      issuer: env.AUTH_ISSUER,
      audience: env.AUTH_AUDIENCE,
      jwksUrl: env.AUTH_JWKS_URL,
      signingKeyFile: env.AUTH_SIGNING_KEY_FILE,
    },
    dataRights: {
      exportDirectory: env.LIGHTBOX_EXPORT_DIR ?? inData('exports'),
      tombstoneKey: env.LIGHTBOX_TOMBSTONE_KEY,
    },
    log: { level: env.LOG_LEVEL },
    ops: { enabled: bool(env.OPS_ENABLED), host: env.OPS_HOST, port: env.OPS_PORT },
  });
}

/** Fills the discriminant of a union slice that the file or environment gave only partly. */
function withKinds(raw: Json): Json {
  const out = { ...raw };
  const defaults: Record<string, string> = { queue: 'in-process', objects: 'fs', index: 'pglite' };
  for (const [key, kind] of Object.entries(defaults)) {
    const slice = out[key] as Json | undefined;
    if (slice && slice.kind === undefined) out[key] = { kind, ...slice };
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
}

/**
 * Parses the configuration once. `overrides` (used by tests and the CLI) win over the environment.
 */
export function loadConfig(
  options: { env?: Env; file?: string; overrides?: Json } = {},
): Readonly<Config> {
  const env = options.env ?? process.env;
  const file = options.file ?? env.LIGHTBOX_CONFIG;
  let fromFile: Json = {};
  if (file) {
    try {
      fromFile = JSON.parse(readFileSync(file, 'utf8')) as Json;
    } catch (error) {
      throw new ConfigError([`${file}: ${(error as Error).message}`]);
    }
  }
  // A union slice switches kind wholesale: the environment's kind drops the file's other-kind fields.
  const envSlice = fromEnvironment(env);
  let raw = merge(fromFile, {});
  for (const [key, value] of Object.entries(envSlice)) {
    const fileSlice = raw[key] as Json | undefined;
    const envKind = (value as Json).kind;
    raw[key] =
      fileSlice && envKind && fileSlice.kind !== envKind
        ? value
        : merge(fileSlice ?? {}, value as Json);
  }
  raw = withKinds(merge(raw, options.overrides ?? {}));
  const parsed = Config.safeParse(raw);
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error));
  return deepFreeze(parsed.data);
}
