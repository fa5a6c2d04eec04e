/**
 * What the gateway answers when what it depends on fails at C-STORE time, and what it leaves behind:
 * Redis down (BullMQ queue), a spool it cannot write, and data sets it cannot understand or that are
 * too large. The sender must get a failure status promptly, never Success, the association must go
 * on, and nothing half-written may stay in the spool.
 *
 * The gateway runs in this process (startGateway over a real Spool and createIngestQueue), as
 * gateway/main.ts builds it. dcmtk storescu is the sender wherever it can send the input. It re-encodes
 * what it reads and refuses files it cannot parse, so data sets that must reach the gateway malformed
 * go through dcmjs-dimse's Client with a Dataset whose encoding is replaced by raw bytes.
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import dimse from 'dcmjs-dimse';
import { QueueConfig } from '../../config/schema.js';
import { decodeFileMetaInformation } from '../../core/dicom/part10-meta.js';
import type { Spool } from '../../core/spool/spool.js';
import { CStoreStatus } from '../../gateway/dimse-status.js';
import { freePort, storescu } from '../helpers/dcmtk.js';
import { parseStorescu, STORE_STATUS_CODE, waitFor } from '../helpers/processes.js';
import { deleteKeys, requireRedis, testPrefix, TEST_REDIS_URL } from '../helpers/redis.js';
import { CTImageStorage, encodeInstance, makeUID } from '../helpers/synthetic.js';
import { requireTool } from '../helpers/tools.js';
import { startGatewayFixture } from '../helpers/gateway-fixture.js';

const ImplicitVRLittleEndian = '1.2.840.10008.1.2';

const startFixture = startGatewayFixture;

async function spoolContents(spool: Spool): Promise<{ incoming: string[]; ready: string[] }> {
  return {
    incoming: await readdir(spool.incomingDirectory).catch(() => ['(not a directory)']),
    ready: await readdir(spool.readyDirectory).catch(() => ['(not a directory)']),
  };
}

/** SOPInstanceUIDs (from the meta group) of the files in ready/. */
async function readyInstances(spool: Spool): Promise<string[]> {
  const names = await readdir(spool.readyDirectory);
  const uids = await Promise.all(
    names.map(async (name) => {
      const file = await readFile(path.join(spool.readyDirectory, name));
      assertNamedBySha(name, file);
      return decodeFileMetaInformation(file).meta.MediaStorageSOPInstanceUID;
    }),
  );
  return uids.sort();
}

function assertNamedBySha(name: string, file: Buffer): void {
  const sha = createHash('sha256').update(file).digest('hex');
  if (name !== `${sha}.dcm`) throw new Error(`ready/${name} does not hold the bytes its name says`);
}

async function writeInstances(dir: string, count: number, prefix: string) {
  const StudyInstanceUID = makeUID();
  const SeriesInstanceUID = makeUID();
  const files: { path: string; SOPInstanceUID: string }[] = [];
  for (let i = 1; i <= count; i++) {
    const SOPInstanceUID = makeUID();
    const file = path.join(dir, `${prefix}-${i}.dcm`);
    await writeFile(
      file,
      encodeInstance({ StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID, InstanceNumber: i }),
    );
    files.push({ path: file, SOPInstanceUID });
  }
  return files;
}

function statuses(output: string): (string | undefined)[] {
  return parseStorescu(output).map((r) => r.status ?? r.notSent);
}

// ---------------------------------------------------------------------------------------------
// Raw data sets, sent byte for byte: implicit VR little endian elements (PS3.5 §7.1.3).

function implicitElement(group: number, element: number, value: Buffer, length = value.length) {
  const header = Buffer.alloc(8);
  header.writeUInt16LE(group, 0);
  header.writeUInt16LE(element, 2);
  header.writeUInt32LE(length, 4);
  return Buffer.concat([header, value]);
}

function uid(value: string): Buffer {
  return Buffer.from(value.length % 2 ? `${value}\0` : value, 'latin1');
}

function implicitDataset(uids: {
  SOPInstanceUID: string;
  StudyInstanceUID?: string;
  SeriesInstanceUID?: string;
}): Buffer[] {
  const elements = [
    implicitElement(0x0008, 0x0016, uid(CTImageStorage)),
    implicitElement(0x0008, 0x0018, uid(uids.SOPInstanceUID)),
    implicitElement(0x0008, 0x0060, Buffer.from('CT')),
  ];
  if (uids.StudyInstanceUID)
    elements.push(implicitElement(0x0020, 0x000d, uid(uids.StudyInstanceUID)));
  if (uids.SeriesInstanceUID)
    elements.push(implicitElement(0x0020, 0x000e, uid(uids.SeriesInstanceUID)));
  return elements;
}

/** A Dataset whose wire encoding is exactly `raw` (dcmjs-dimse would otherwise re-encode it). */
class RawDataset extends dimse.Dataset {
  constructor(
    private readonly raw: Buffer,
    command: { SOPClassUID: string; SOPInstanceUID: string },
  ) {
    super(
      { SOPClassUID: command.SOPClassUID, SOPInstanceUID: command.SOPInstanceUID },
      ImplicitVRLittleEndian,
    );
  }

  override getDenaturalizedDataset(): Buffer {
    return this.raw;
  }
}

/**
 * One association: C-STORE each raw data set (implicit VR little endian) with the Affected SOP
 * Instance UID given; resolves with the statuses in order (undefined: no response).
 */
async function sendRaw(
  port: number,
  items: { raw: Buffer; SOPInstanceUID: string }[],
): Promise<(number | undefined)[]> {
  const client = new dimse.Client();
  const statuses: (number | undefined)[] = items.map(() => undefined);
  items.forEach((item, i) => {
    const request = new dimse.requests.CStoreRequest(
      new RawDataset(item.raw, {
        SOPClassUID: CTImageStorage,
        SOPInstanceUID: item.SOPInstanceUID,
      }),
    );
    request.on('response', (response: { getStatus(): number }) => {
      statuses[i] = response.getStatus();
    });
    client.addRequest(request);
  });
  const closed = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('raw C-STORE association timed out')), 20_000);
    client.on('closed', () => {
      clearTimeout(timer);
      resolve();
    });
    client.on('networkError', (error: Error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
  client.send('127.0.0.1', port, 'RAWSCU', 'LIGHTBOX');
  await closed;
  return statuses;
}

// ---------------------------------------------------------------------------------------------

if (await requireTool(test, 'storescu')) {
  if (await requireRedis(test)) {
    const prefix = testPrefix();
    test.after.always(() => deleteKeys(prefix));

    test('Redis down at C-STORE time: Refused: OutOfResources (0xA700) promptly, association goes on; Success once Redis is back', async (t) => {
      // A closed port (nothing listens), which later becomes a TCP relay to the real Redis.
      const redisPort = await freePort();
      const { dir, spool, queue, gateway } = await startFixture(t, {
        queue: QueueConfig.parse({
          kind: 'bullmq',
          redisUrl: `redis://127.0.0.1:${redisPort}`,
          prefix,
        }),
      });
      const files = await writeInstances(dir, 3, 'redis-down');

      const started = Date.now();
      const down = await storescu(
        gateway.port,
        files.map((f) => f.path),
        { extra: ['--no-halt'] },
      );
      const elapsed = Date.now() - started;
      t.is(down.code, 0, 'the association was released normally, not aborted');
      t.deepEqual(statuses(down.stdout + down.stderr), [
        'Refused: OutOfResources',
        'Refused: OutOfResources',
        'Refused: OutOfResources',
      ]);
      t.is(STORE_STATUS_CODE['Refused: OutOfResources'], CStoreStatus.RefusedOutOfResources);
      // Not a speed measurement: a producer that waited for Redis would wait its operation bound
      // (5 s, bullmq-ingest-queue.ts) per instance, at least 15 s for three; failing fast takes
      // milliseconds. The threshold sits just under that, far above a loaded machine's delays.
      t.true(
        elapsed < 14_000,
        `three refusals took ${elapsed} ms: no waiting for Redis per instance`,
      );

      // The refused instances were written completely before the queue was asked: they stay in
      // ready/ (accept-instance.ts) so that a worker's reconciliation archives them even if the
      // sender never retries. Nothing is left in incoming/.
      t.deepEqual((await spoolContents(spool)).incoming, []);
      t.deepEqual(await readyInstances(spool), files.map((f) => f.SOPInstanceUID).sort());

      // Redis comes back: the next association succeeds without restarting the gateway.
      const relay = await startRelay(redisPort, new URL(TEST_REDIS_URL));
      t.teardown(() => relay.close());
      await waitFor(
        'the queue to reconnect to Redis',
        () =>
          queue.depth().then(
            () => true,
            () => false,
          ),
        {
          timeoutMs: 10_000,
          intervalMs: 200,
        },
      );
      const [again] = await writeInstances(dir, 1, 'redis-up');
      const up = await storescu(gateway.port, [again.path]);
      t.deepEqual(statuses(up.stdout + up.stderr), ['Success']);
      t.is(await queue.depth(), 1, 'the job is in Redis');
    });
  }

  test('spool not writable: Refused: OutOfResources (0xA700) and nothing half-written', async (t) => {
    const { dir, spool, gateway } = await startFixture(t);
    const files = await writeInstances(dir, 2, 'no-spool');
    // root ignores permission bits: there, incoming/ is replaced by a plain file (ENOTDIR on open).
    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
      await rm(spool.incomingDirectory, { recursive: true });
      await writeFile(spool.incomingDirectory, 'not a directory');
    } else {
      await chmod(spool.incomingDirectory, 0o500);
    }
    const result = await storescu(
      gateway.port,
      files.map((f) => f.path),
      { extra: ['--no-halt'] },
    );
    t.deepEqual(statuses(result.stdout + result.stderr), [
      'Refused: OutOfResources',
      'Refused: OutOfResources',
    ]);
    t.is(result.code, 0, 'the association goes on after each refusal');
    t.deepEqual(await readdir(spool.readyDirectory), []);
    if (asRoot) {
      await rm(spool.incomingDirectory);
      await mkdir(spool.incomingDirectory);
    } else {
      t.deepEqual(await readdir(spool.incomingDirectory), []);
      await chmod(spool.incomingDirectory, 0o750);
    }
    const [later] = await writeInstances(dir, 1, 'spool-back');
    const back = await storescu(gateway.port, [later.path]);
    t.deepEqual(statuses(back.stdout + back.stderr), ['Success'], 'no restart needed');
    t.deepEqual(await readyInstances(spool), [later.SOPInstanceUID]);
  });

  test('ready/ not writable (rename fails after the whole data set is on disk): 0xA700, tmp file removed', async (t) => {
    const { dir, spool, gateway } = await startFixture(t);
    const files = await writeInstances(dir, 2, 'no-ready');
    await rm(spool.readyDirectory, { recursive: true });
    await writeFile(spool.readyDirectory, 'not a directory');
    const result = await storescu(
      gateway.port,
      files.map((f) => f.path),
      { extra: ['--no-halt'] },
    );
    t.deepEqual(statuses(result.stdout + result.stderr), [
      'Refused: OutOfResources',
      'Refused: OutOfResources',
    ]);
    t.deepEqual(await readdir(spool.incomingDirectory), [], 'no partial reception left behind');
  });

  test('malformed data sets: 0xC000 / 0xA900, nothing in ready/ or incoming/, the association goes on', async (t) => {
    const { dir, spool, gateway } = await startFixture(t);

    // storescu parses what it sends: a Part 10 file cut inside a header element is refused by
    // storescu itself, so it cannot be what reaches the gateway.
    const complete = encodeInstance({ StudyInstanceUID: makeUID(), SeriesInstanceUID: makeUID() });
    const cut = path.join(dir, 'cut.dcm');
    const datasetOffset = decodeFileMetaInformation(complete).datasetOffset;
    await writeFile(cut, complete.subarray(0, datasetOffset + 30));
    const bySender = await storescu(gateway.port, [cut], { extra: ['--no-halt'] });
    const [cutResult] = parseStorescu(bySender.stdout + bySender.stderr);
    t.truthy(cutResult?.notSent, `storescu did not send the cut file: ${bySender.stdout}`);

    const uids = () => ({
      SOPInstanceUID: makeUID(),
      StudyInstanceUID: makeUID(),
      SeriesInstanceUID: makeUID(),
    });
    const good = uids();
    const truncated = uids();
    const mismatch = uids();
    const noStudy = uids();
    const badUid = uids();
    const cutHeader = uids();
    const items = [
      {
        // PatientName announces 64 bytes; the data set ends after 6.
        what: 'truncated header element',
        raw: Buffer.concat([
          ...implicitDataset(truncated),
          implicitElement(0x0010, 0x0010, Buffer.from('Doe^Jo'), 64),
        ]),
        SOPInstanceUID: truncated.SOPInstanceUID,
        expected: CStoreStatus.ErrorCannotUnderstand,
      },
      {
        what: 'SOPInstanceUID of the data set differs from the command',
        raw: Buffer.concat(implicitDataset(mismatch)),
        SOPInstanceUID: makeUID(),
        expected: CStoreStatus.ErrorDataSetDoesNotMatchSOPClass,
      },
      {
        what: 'no StudyInstanceUID',
        raw: Buffer.concat(implicitDataset({ ...noStudy, StudyInstanceUID: undefined })),
        SOPInstanceUID: noStudy.SOPInstanceUID,
        expected: CStoreStatus.ErrorCannotUnderstand,
      },
      {
        what: 'StudyInstanceUID not a UID',
        raw: Buffer.concat(implicitDataset({ ...badUid, StudyInstanceUID: '1.2.3.abc' })),
        SOPInstanceUID: badUid.SOPInstanceUID,
        expected: CStoreStatus.ErrorCannotUnderstand,
      },
      {
        what: 'an element header cut short (4 of 8 bytes)',
        raw: Buffer.concat([...implicitDataset(cutHeader), Buffer.from([0x10, 0x00, 0x20, 0x00])]),
        SOPInstanceUID: cutHeader.SOPInstanceUID,
        expected: CStoreStatus.ErrorCannotUnderstand,
      },
      {
        what: 'a well-formed instance after all the bad ones',
        raw: Buffer.concat(implicitDataset(good)),
        SOPInstanceUID: good.SOPInstanceUID,
        expected: CStoreStatus.Success,
      },
    ];
    const got = await sendRaw(gateway.port, items);
    t.deepEqual(
      got.map((status, i) => `${items[i].what}: 0x${status?.toString(16)}`),
      items.map((item) => `${item.what}: 0x${item.expected.toString(16)}`),
    );
    t.deepEqual((await spoolContents(spool)).incoming, []);
    t.deepEqual(await readyInstances(spool), [good.SOPInstanceUID], 'only the good instance');
  });

  test('an oversized instance: 0xA700, nothing kept in incoming/ or ready/, the next one stored', async (t) => {
    const { dir, spool, gateway } = await startFixture(t, {
      gateway: { maxInstanceBytes: 50_000 },
    });
    const StudyInstanceUID = makeUID();
    const SeriesInstanceUID = makeUID();
    const big = path.join(dir, 'big.dcm');
    await writeFile(
      big,
      encodeInstance({ StudyInstanceUID, SeriesInstanceUID, Rows: 256, Columns: 256 }),
    );
    const [small] = await writeInstances(dir, 1, 'small');
    const result = await storescu(gateway.port, [big, small.path, big], { extra: ['--no-halt'] });
    t.deepEqual(statuses(result.stdout + result.stderr), [
      'Refused: OutOfResources',
      'Success',
      'Refused: OutOfResources',
    ]);
    t.deepEqual((await spoolContents(spool)).incoming, []);
    t.deepEqual(await readyInstances(spool), [small.SOPInstanceUID]);
  });
}

/** A TCP relay from 127.0.0.1:port to the real Redis, standing for "Redis is back". */
async function startRelay(port: number, target: URL): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 6379), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
