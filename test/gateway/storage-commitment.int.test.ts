/**
 * Storage Commitment on the requester's own association: a modality (not a configured peer, so it
 * reads nothing) that keeps its association open after N-ACTION gets the N-EVENT-REPORT there, for
 * the instances it sent itself; an instance of another SOP Class, one it did not send, and a
 * malformed request are not committed. (Orthanc, in orthanc-peer.int.test.ts, covers the report on
 * a new association.) dcmtk has no storage commitment SCU, so the requester is built from
 * gateway/scu-association.ts, with the N-ACTION-RQ command set encoded here.
 */
import anyTest, { type TestFn } from 'ava';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { DicomJson } from '../../core/archive/index-store.js';
import { createLogger } from '../../core/log.js';
import { encodeCommandSet } from '../../gateway/dimse-command.js';
import { datasetToDicomJson, dicomJsonToDataset } from '../../gateway/dimse-dataset.js';
import { openAssociation, type ScuAssociation } from '../../gateway/scu-association.js';
import { seedQrArchive, tempDirectory, type QrArchive } from '../helpers/qr-archive.js';
import { startTestLightbox, type TestLightbox } from '../helpers/start-lightbox.js';
import { CTImageStorage, makeUID } from '../helpers/synthetic.js';
import { requireTool } from '../helpers/tools.js';

const test = anyTest as TestFn<{ lightbox: TestLightbox; archive: QrArchive }>;

const StorageCommitmentPushModel = '1.2.840.10008.1.20.1';
const ExplicitVRLittleEndian = '1.2.840.10008.1.2.1';
const MRImageStorage = '1.2.840.10008.5.1.4.1.1.4';

async function requester(lightbox: TestLightbox, callingAETitle: string): Promise<ScuAssociation> {
  return openAssociation(
    { aeTitle: 'LIGHTBOX', host: '127.0.0.1', port: lightbox.gateway.port, access: 'archive' },
    [
      {
        abstractSyntaxUID: StorageCommitmentPushModel,
        transferSyntaxUIDs: [ExplicitVRLittleEndian],
      },
    ],
    {
      callingAETitle,
      maxPduLength: 65536,
      connectTimeoutMs: 10_000,
      log: createLogger({ level: 'silent' }),
    },
  );
}

/** N-ACTION-RQ (PS3.7 §10.3.4.1) Request Storage Commitment; resolves with the N-ACTION-RSP status. */
async function nAction(association: ScuAssociation, info: DicomJson): Promise<number> {
  const { connection } = association;
  const [{ id }] = connection.negotiated!.getPresentationContexts();
  const MessageID = connection.nextMessageId();
  const command = encodeCommandSet([
    [0x0003, 'UI', StorageCommitmentPushModel],
    [0x0100, 'US', 0x0130],
    [0x0110, 'US', MessageID],
    [0x0800, 'US', 0x0000],
    [0x1001, 'UI', '1.2.840.10008.1.20.1.1'],
    [0x1008, 'US', 1],
  ]);
  const response = connection.awaitResponse(MessageID, 30_000);
  const body = dicomJsonToDataset(info, ExplicitVRLittleEndian).getDenaturalizedDataset();
  await connection.sendMessage(id, command, Readable.from([body]));
  return (await response).getStatus();
}

/** Resolves with the next N-EVENT-REPORT-RQ's Event Type ID and Event Information, answered Success. */
function nextEventReport(
  association: ScuAssociation,
): Promise<{ EventTypeID: number; info: DicomJson }> {
  return new Promise((resolve) => {
    const connection = association.connection as unknown as {
      nEventReportRequest(
        request: { getEventTypeId(): number; getDataset(): never },
        callback: (response: unknown) => void,
      ): void;
    };
    connection.nEventReportRequest = (request, callback) => {
      const { NEventReportResponse } = dimseResponses;
      const response = NEventReportResponse.fromRequest(request as never);
      response.setStatus(0);
      callback(response);
      resolve({
        EventTypeID: request.getEventTypeId(),
        info: datasetToDicomJson(request.getDataset()),
      });
    };
  });
}

const dimseResponses = (await import('dcmjs-dimse')).default.responses;

const reference = (ReferencedSOPClassUID: string, ReferencedSOPInstanceUID: string): DicomJson => ({
  '00081150': { vr: 'UI', Value: [ReferencedSOPClassUID] },
  '00081155': { vr: 'UI', Value: [ReferencedSOPInstanceUID] },
});

const uidsOf = (sequence: DicomJson[string] | undefined) =>
  ((sequence?.Value ?? []) as DicomJson[]).map((item) => item['00081155'].Value?.[0]);

if (await requireTool(test, 'storescu')) {
  test.before(async (t) => {
    const lightbox = await startTestLightbox();
    const directory = await tempDirectory({ teardown: () => undefined }, 'commitment');
    await mkdir(path.join(directory, 'in'));
    t.context = {
      lightbox,
      archive: await seedQrArchive(lightbox, path.join(directory, 'in'), 'CT01'),
    };
  });
  test.after.always(async (t) => {
    await t.context.lightbox?.stop();
  });

  test('the report comes on the same association: what the requester sent is committed, the rest fails 0x0112', async (t) => {
    const { lightbox, archive } = t.context;
    const association = await requester(lightbox, 'CT01');
    t.teardown(() => association.release());
    const sent = archive.patients[0].studies[0].series[0].SOPInstanceUIDs;
    const unknown = makeUID();
    const TransactionUID = makeUID();
    const report = nextEventReport(association);
    const status = await nAction(association, {
      '00081195': { vr: 'UI', Value: [TransactionUID] },
      '00081199': {
        vr: 'SQ',
        Value: [
          ...sent.map((uid) => reference(CTImageStorage, uid)),
          reference(CTImageStorage, unknown),
          reference(MRImageStorage, sent[0]),
        ],
      },
    });
    t.is(status, 0x0000);
    const { EventTypeID, info } = await report;
    t.is(EventTypeID, 2, 'failures exist');
    t.is(info['00081195'].Value?.[0], TransactionUID);
    t.deepEqual(uidsOf(info['00081199']), sent);
    t.deepEqual(uidsOf(info['00081198']), [unknown, sent[0]]);
    t.true(
      ((info['00081198'].Value ?? []) as DicomJson[]).every(
        (item) => Number(item['00081197'].Value?.[0]) === 0x0112,
      ),
      JSON.stringify(info['00081198']),
    );
  });

  test('another AE, not a peer, may not learn what it did not send; a request without references is refused', async (t) => {
    const { lightbox, archive } = t.context;
    const association = await requester(lightbox, 'STRANGER');
    t.teardown(() => association.release());
    const uid = archive.patients[1].studies[0].series[0].SOPInstanceUIDs[0];
    const report = nextEventReport(association);
    t.is(
      await nAction(association, {
        '00081195': { vr: 'UI', Value: [makeUID()] },
        '00081199': { vr: 'SQ', Value: [reference(CTImageStorage, uid)] },
      }),
      0x0000,
    );
    const { EventTypeID, info } = await report;
    t.is(EventTypeID, 2);
    t.deepEqual(uidsOf(info['00081198']), [uid]);
    t.false('00081199' in info, 'nothing committed');
    t.is(await nAction(association, { '00081195': { vr: 'UI', Value: [makeUID()] } }), 0x0115);
  });
}
