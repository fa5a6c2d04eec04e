/**
 * Metrics and health of the embedded mode (served on the viewer API's port): dcmtk storescu makes
 * the associations, one of them refused (wrong Called AE Title); the counters must say exactly what
 * happened, and nothing in /metrics may carry a UID or a patient attribute.
 */
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { storescu } from '../../helpers/dcmtk.js';
import { startTestLightbox, type TestLightbox } from '../../helpers/start-lightbox.js';
import { requireTool } from '../../helpers/tools.js';
import { writeStudy } from '../../e2e/archive.js';
import { sample } from '../../helpers/metrics.js';

const TOKEN = 'metrics-test-token-0123456789abcdef';

if (await requireTool(test, 'storescu')) {
  let lightbox: TestLightbox;
  let work: string;
  test.before(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'lightbox-metrics-'));
    lightbox = await startTestLightbox({ viewerApi: { apiToken: TOKEN } });
  });
  test.after.always(async () => {
    await lightbox?.stop();
    await rm(work, { recursive: true, force: true });
  });

  test.serial('healthz and readyz (every dependency of the embedded mode)', async (t) => {
    const health = await fetch(`${lightbox.viewerApi.url}/healthz`);
    t.deepEqual(await health.json(), { status: 'ok' });
    const ready = await fetch(`${lightbox.viewerApi.url}/readyz`);
    t.is(ready.status, 200);
    t.deepEqual(await ready.json(), {
      status: 'ready',
      checks: { spool: 'ok', queue: 'ok', index: 'ok', objects: 'ok' },
    });
  });

  test.serial(
    'associations, instances, bytes, queue depth and HTTP latency by route',
    async (t) => {
      const study = await writeStudy(work, 12, 'metrics');
      const files = study.map((i) => i.path);
      const sent = await storescu(lightbox.gateway.port, files);
      t.is(sent.code, 0, sent.stderr);
      const refused = await storescu(lightbox.gateway.port, files.slice(0, 1), {
        calledAETitle: 'SOMEONE-ELSE',
      });
      t.not(refused.code, 0);
      await lightbox.settled();

      const metadata = await fetch(
        `${lightbox.viewerApi.url}/dicom-web/studies/${study[0].StudyInstanceUID}/metadata`,
        { headers: { authorization: `Bearer ${TOKEN}` } },
      );
      t.is(metadata.status, 200);
      await metadata.arrayBuffer();

      const response = await fetch(`${lightbox.viewerApi.url}/metrics`);
      t.is(response.status, 200);
      t.regex(response.headers.get('content-type') ?? '', /^text\/plain/);
      const text = await response.text();
      t.is(sample(text, 'lightbox_dimse_associations_total'), 1);
      t.is(sample(text, 'lightbox_dimse_associations_rejected_total', { reason: 'called-ae' }), 1);
      t.is(sample(text, 'lightbox_dimse_associations_active'), 0);
      t.is(
        sample(text, 'lightbox_instances_received_total', { via: 'c-store', outcome: 'accepted' }),
        12,
      );
      t.is(sample(text, 'lightbox_instances_stored_total', { outcome: 'stored' }), 12);
      const bytes = sample(text, 'lightbox_received_bytes_total', { via: 'c-store' });
      t.true(bytes > 12 * 8000 && bytes < 12 * 10_000, `received bytes ${bytes}`);
      t.is(sample(text, 'lightbox_queue_depth'), 0);
      t.is(sample(text, 'lightbox_ingest_job_failures_total'), 0);
      t.is(
        sample(text, 'lightbox_http_request_duration_seconds_count', {
          route: '/dicom-web/studies/:study/metadata',
          method: 'GET',
          status: '2xx',
        }),
        1,
      );
      // No UID (2.25.… here), no patient ID, no URL path with parameters in any label.
      t.false(text.includes('2.25.'), 'a UID in the metrics');
      t.false(text.includes('E2E-'), 'a patient ID in the metrics');
      t.false(/route="[^"]*\/studies\/\d/.test(text), 'a URL in a route label');
    },
  );
}
