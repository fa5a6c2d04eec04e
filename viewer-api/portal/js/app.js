/**
 * The signed-in portal: sign-in by link, then one page per fragment route. Routes carry no patient
 * data, only the UIDs DICOMweb needs (#/studies/<StudyInstanceUID>), and fragments never reach the
 * server.
 */
import { apiClient, ApiError } from './api.js';
import { DicomWeb } from './dicomweb.js';
import { announce, h, notice, replace } from './dom.js';
import { acceptSignInLink, signOut, token } from './session.js';
import { studiesPage } from './pages/studies.js';
import { studyPage } from './pages/study.js';
import { sharesPage } from './pages/shares.js';
import { accessLogPage } from './pages/access-log.js';
import { dataRightsPage } from './pages/data-rights.js';

const main = document.getElementById('main');
const api = apiClient(token);
const context = { api, dicomweb: new DicomWeb('/dicom-web', token), me: undefined };

/** [fragment pattern, the nav entry it belongs to, page]. */
const ROUTES = [
  [/^#\/studies\/([0-9.]{1,64})$/, 'studies', (m) => studyPage(context, m[1])],
  [/^#\/shares$/, 'shares', () => sharesPage(context)],
  [/^#\/access-log$/, 'access-log', () => accessLogPage(context)],
  [/^#\/data-rights$/, 'data-rights', () => dataRightsPage(context)],
  [/^#?\/?(studies)?$/, 'studies', () => studiesPage(context)],
];

let current;

async function show() {
  current?.leave?.();
  current = undefined;
  if (!token()) return showSignedOut();
  const route = ROUTES.find(([pattern]) => pattern.test(location.hash));
  if (!route) {
    replace(main, notice('There is no such page.'));
    return;
  }
  const [pattern, name, render] = route;
  for (const link of document.querySelectorAll('#nav a')) {
    if (link.dataset.page === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  replace(main, h('p', { class: 'loading' }, 'Loading…'));
  try {
    current = await render(pattern.exec(location.hash));
    replace(main, current.element);
    document.title = `${current.title} — Lightbox`;
    announce(current.title);
    main.focus({ preventScroll: true });
    current.ready?.();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return showSignedOut(true);
    replace(main, notice(`This page could not be shown: ${error.message}`, 'error'));
  }
}

function showSignedOut(expired = false) {
  signOut();
  document.getElementById('nav').hidden = true;
  document.getElementById('sign-out').hidden = true;
  document.getElementById('account-name').textContent = '';
  replace(
    main,
    h(
      'section',
      { class: 'signed-out' },
      h('h1', {}, expired ? 'Your session has ended' : 'Sign in'),
      h('p', {}, 'Open the sign-in link you received from your imaging provider or from Lightbox.'),
      h('p', {}, 'The link signs you in for this browser tab only; closing the tab signs you out.'),
    ),
  );
  document.title = 'Sign in — Lightbox';
}

async function showAccount() {
  document.getElementById('nav').hidden = false;
  const button = document.getElementById('sign-out');
  button.hidden = false;
  button.onclick = () => {
    showSignedOut();
    location.hash = '';
  };
  try {
    context.me = await api('/api/me');
    document.getElementById('account-name').textContent = context.me?.displayName ?? '';
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) showSignedOut(true);
    // Any other failure (e.g. /api/me not available): the pages still work without a name.
  }
}

acceptSignInLink();
if (token()) await showAccount();
window.addEventListener('hashchange', show);
await show();
