/**
 * My data: per patient record, an export of all its imaging (a ZIP with DICOMDIR, prepared in the
 * background: progress, then download) and an erasure request (a confirmation step, then the
 * receipt, which can be saved).
 */
import { ApiError, describeError } from '../api.js';
import { announce, dateTime, h, notice, replace, saveBlob } from '../dom.js';
import { personName } from '../dicom-json.js';

const POLL_MS = 1000;

function exportPanel(context, record) {
  const panel = h('div', { class: 'export', 'aria-live': 'polite' });
  const start = h(
    'button',
    { type: 'button', class: 'primary', onclick: () => void run() },
    'Prepare a download of this imaging',
  );
  replace(panel, start);
  let timer;

  async function run() {
    start.disabled = true;
    let exportId;
    try {
      ({ exportId } = await context.api('/api/exports', {
        method: 'POST',
        body: { patientKey: record.patientKey },
      }));
    } catch (error) {
      start.disabled = false;
      replace(panel, start, notice(describeError(error, 'Export'), 'error'));
      return;
    }
    const progress = h('progress', {
      max: 1,
      value: 0,
      id: `export-progress-${record.patientKey}`,
    });
    const text = h('p', { class: 'field-hint' }, 'Preparing…');
    replace(panel, h('label', { for: progress.id }, 'Export progress'), progress, text);
    const poll = async () => {
      try {
        const state = await context.api(`/api/exports/${encodeURIComponent(exportId)}`);
        progress.max = Math.max(1, state.total ?? 1);
        progress.value = state.done ?? 0;
        text.textContent = `${state.done ?? 0} of ${state.total ?? '?'} files`;
        if (state.state === 'ready') return ready(exportId, state);
        if (state.state === 'failed')
          return replace(panel, notice('The export failed. Try again later.', 'error'), start);
        timer = setTimeout(poll, POLL_MS);
      } catch (error) {
        replace(panel, notice(describeError(error, 'Export'), 'error'));
      }
    };
    await poll();
  }

  function ready(exportId, state) {
    const download = h(
      'button',
      {
        type: 'button',
        class: 'primary',
        'data-export': exportId,
        onclick: async () => {
          try {
            const zip = await context.api(`/api/exports/${encodeURIComponent(exportId)}/download`, {
              as: 'blob',
              accept: 'application/zip',
            });
            saveBlob(zip, `lightbox-export-${exportId}.zip`);
            announce('Download started.');
          } catch (error) {
            announce(describeError(error, 'Download'));
          }
        },
      },
      'Download ZIP',
    );
    replace(
      panel,
      notice(`Your export is ready: ${state.done} of ${state.total} files.`, 'ok'),
      download,
    );
    announce('Your export is ready.');
  }

  return { element: panel, stop: () => clearTimeout(timer) };
}

function erasurePanel(context, record) {
  const panel = h('div', { class: 'erasure' });
  const ask = h(
    'button',
    { type: 'button', class: 'danger', onclick: () => confirmStep() },
    'Request erasure…',
  );
  replace(panel, ask);

  function confirmStep() {
    const check = h('input', { type: 'checkbox', id: `erase-confirm-${record.patientKey}` });
    const erase = h(
      'button',
      { type: 'button', class: 'danger primary', disabled: true, onclick: () => void submit() },
      'Erase permanently',
    );
    check.addEventListener('change', () => (erase.disabled = !check.checked));
    replace(
      panel,
      h(
        'div',
        { class: 'card', role: 'group', 'aria-labelledby': `erase-title-${record.patientKey}` },
        h('h3', { id: `erase-title-${record.patientKey}` }, 'Erase this imaging record?'),
        h(
          'p',
          {},
          'Every study of this record is deleted from the archive with its index entries and every access you gave. It cannot be undone, and the same images sent again later will be refused.',
        ),
        h('p', {}, 'Download an export first if you want to keep a copy.'),
        h(
          'div',
          {},
          check,
          h(
            'label',
            { for: check.id, class: 'inline' },
            ' I understand that this cannot be undone',
          ),
        ),
        h(
          'div',
          { class: 'actions' },
          erase,
          h('button', { type: 'button', onclick: () => replace(panel, ask) }, 'Cancel'),
        ),
      ),
    );
    check.focus();
  }

  async function submit() {
    try {
      const receipt = await context.api('/api/erasure-requests', {
        method: 'POST',
        body: { patientKey: record.patientKey },
      });
      const counts = Object.entries(receipt.counts ?? {})
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ');
      const save = h(
        'button',
        {
          type: 'button',
          onclick: () =>
            saveBlob(
              new Blob([JSON.stringify(receipt, null, 2)], { type: 'application/json' }),
              `erasure-receipt-${receipt.erasureId}.json`,
            ),
        },
        'Save the receipt',
      );
      replace(
        panel,
        h(
          'div',
          { class: 'card notice-ok', role: 'status' },
          h('h3', {}, 'Erased. Your receipt:'),
          h(
            'dl',
            { class: 'receipt' },
            h('dt', {}, 'Receipt'),
            h('dd', { 'data-erasure': receipt.erasureId }, receipt.erasureId),
            h('dt', {}, 'Erased at'),
            h('dd', {}, dateTime(receipt.erasedAt)),
            h('dt', {}, 'What was erased'),
            h('dd', {}, counts),
            h('dt', {}, 'Receipt SHA-256'),
            h('dd', {}, receipt.receiptSha256),
          ),
          h('div', { class: 'actions' }, save),
        ),
      );
      announce('Erased. The receipt is shown.');
    } catch (error) {
      replace(panel, notice(describeError(error, 'Erasure'), 'error'), ask);
    }
  }
  return { element: panel };
}

export async function dataRightsPage(context) {
  let records;
  let failure;
  try {
    records = (await context.api('/api/patient-records')) ?? [];
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) throw error;
    failure = notice(
      describeError(error, 'Your patient records'),
      error instanceof ApiError && error.status === 404 ? 'info' : 'error',
    );
  }
  const exports = [];
  const cards = (records ?? []).map((record) => {
    const exporter = exportPanel(context, record);
    exports.push(exporter);
    const name = personName(record.PatientName) || 'Imaging record';
    return h(
      'section',
      { class: 'card', 'data-patient-key': record.patientKey, 'aria-label': name },
      h('h2', {}, name),
      h(
        'p',
        { class: 'lede' },
        [
          record.PatientID && `Patient ID ${record.PatientID}`,
          record.IssuerOfPatientID && `issued by ${record.IssuerOfPatientID}`,
        ]
          .filter(Boolean)
          .join(', '),
      ),
      h('h3', {}, 'Export'),
      h(
        'p',
        {},
        'All the images of this record in one ZIP file with a DICOMDIR, ready for any DICOM viewer or CD burner.',
      ),
      exporter.element,
      h('h3', {}, 'Erasure'),
      erasurePanel(context, record).element,
    );
  });
  const element = h(
    'section',
    { class: 'page' },
    h('h1', {}, 'My data'),
    h('p', { class: 'lede' }, 'Take a copy of your imaging, or have it erased.'),
    failure ?? (cards.length ? cards : notice('No imaging record is linked to your account.')),
  );
  return { title: 'My data', element, leave: () => exports.forEach((e) => e.stop()) };
}
