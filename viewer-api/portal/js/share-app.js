/**
 * The landing page of a share link, /portal/share/<token>: the link's own DICOMweb root
 * (/share/<token>/dicom-web) shown in the portal's viewer. A link with a PIN answers 401 until
 * unlocked: the page asks for the PIN, POSTs it to /share/<token>/unlock and uses the short-lived
 * access token it gets (kept in memory only). Only what the link grants is ever shown.
 */
import { ApiError, describeError, request } from './api.js';
import { DicomWeb } from './dicomweb.js';
import { announce, h, notice, replace } from './dom.js';
import { value } from './dicom-json.js';
import { studyList } from './pages/studies.js';
import { studyView } from './pages/study.js';

const main = document.getElementById('main');
const shareToken = decodeURIComponent(
  location.pathname.replace(/^\/portal\/share\//, '').replace(/\/$/, ''),
);
let accessToken;
const dicomweb = new DicomWeb(
  `/share/${encodeURIComponent(shareToken)}/dicom-web`,
  () => accessToken,
);
let current;

/** " 3 attempts left." from the problem's detail ("wrong PIN: 3 attempt(s) left"), if it says. */
function attemptsLeft(error) {
  const n = /(\d+) attempt/.exec(error.message ?? '')?.[1];
  return n === undefined ? '' : ` ${n} ${n === '1' ? 'attempt' : 'attempts'} left.`;
}

function askForPin(message) {
  const input = h('input', {
    type: 'password',
    id: 'pin',
    name: 'pin',
    inputmode: 'numeric',
    autocomplete: 'off',
    required: true,
  });
  const feedback = h(
    'p',
    { class: 'field-hint', id: 'pin-feedback', 'aria-live': 'assertive' },
    message ?? '',
  );
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'pin-title' },
    h('h1', { id: 'pin-title' }, 'This share is protected by a PIN'),
    h('p', {}, 'Enter the PIN you were given with the link.'),
    h('label', { for: 'pin' }, 'PIN'),
    input,
    feedback,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Open')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const unlocked = await request(`/share/${encodeURIComponent(shareToken)}/unlock`, {
        method: 'POST',
        body: { pin: input.value },
      });
      accessToken = unlocked.accessToken;
      await show();
    } catch (error) {
      const locked = error instanceof ApiError && (error.status === 423 || error.status === 429);
      feedback.textContent = locked
        ? 'Too many wrong PINs: this link is locked. Ask the person who shared it.'
        : error instanceof ApiError && error.status < 500
          ? `That PIN is not right.${attemptsLeft(error)}`
          : describeError(error, 'Unlocking');
      announce(feedback.textContent);
      input.select();
    }
  });
  replace(main, form);
  input.focus();
}

async function show() {
  current?.leave?.();
  let studies;
  try {
    studies = await dicomweb.searchForStudies();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401 && !accessToken) return askForPin();
    if (error instanceof ApiError && error.status === 401)
      return askForPin('The unlocked session has ended: enter the PIN again.');
    const gone = error instanceof ApiError && error.status === 404;
    replace(
      main,
      h('h1', {}, 'This share cannot be opened'),
      notice(
        gone
          ? 'This link is not valid: it may have expired or been revoked.'
          : describeError(error, 'Opening the share'),
        'error',
      ),
    );
    document.title = 'Share unavailable — Lightbox';
    return;
  }
  const uid = /^#\/studies\/([0-9.]{1,64})$/.exec(location.hash)?.[1];
  const chosen = studies.length === 1 ? value(studies[0], 'StudyInstanceUID') : uid;
  if (chosen) {
    const back = studies.length > 1 ? { href: '#', label: 'All shared studies' } : undefined;
    current = await studyView(dicomweb, chosen, back);
    replace(main, current.element);
    document.title = `${current.title} — shared — Lightbox`;
    current.ready();
    return;
  }
  const list = studyList(dicomweb, studies, (u) => `#/studies/${u}`);
  replace(
    main,
    h(
      'section',
      { class: 'page' },
      h('h1', {}, 'Shared studies'),
      studies.length ? list.element : notice('Nothing is shared through this link.'),
    ),
  );
  void list.loadThumbnails();
}

window.addEventListener('hashchange', () => void show());
await show();
