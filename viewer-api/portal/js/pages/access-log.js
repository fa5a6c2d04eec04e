/**
 * Access log: who did what with my imaging, newest first (/api/audit?limit&offset), 50 a page.
 * Studies are named by their description where this account can see them.
 */
import { describeError, ApiError } from '../api.js';
import { dateTime, h, notice, replace } from '../dom.js';
import { studyDate, value } from '../dicom-json.js';

const PAGE = 50;

/** "grant.create" → "Grant create"; the API's action names are stable identifiers. */
function words(action) {
  const text = String(action ?? '')
    .replace(/[._-]+/g, ' ')
    .trim();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const KINDS = {
  patient: 'you or another patient account',
  doctor: 'doctor',
  'share-link': 'share link',
  organisation: 'imaging provider',
  'archive-reader': 'integration',
  'platform-admin': 'administrator',
  'organisation-admin': 'provider administrator',
};

export async function accessLogPage(context) {
  const studies = await context.dicomweb.searchForStudies().catch(() => []);
  const names = new Map(
    studies.map((s) => [
      value(s, 'StudyInstanceUID'),
      `${value(s, 'StudyDescription') || 'Study'} (${studyDate(value(s, 'StudyDate'))})`,
    ]),
  );
  const body = h('div', {});
  let offset = 0;

  async function load() {
    let events;
    try {
      events = (await context.api(`/api/audit?limit=${PAGE}&offset=${offset}`)) ?? [];
    } catch (error) {
      replace(
        body,
        notice(
          describeError(error, 'The access log'),
          error instanceof ApiError && error.status === 404 ? 'info' : 'error',
        ),
      );
      return;
    }
    const rows = events.map((e) =>
      h(
        'tr',
        { 'data-action': e.action },
        h('td', {}, dateTime(e.at)),
        h('td', {}, e.actor?.displayName || KINDS[e.actor?.kind] || e.actor?.kind || ''),
        h('td', {}, words(e.action)),
        h('td', {}, e.StudyInstanceUID ? (names.get(e.StudyInstanceUID) ?? 'A study') : ''),
        h('td', {}, e.via ?? ''),
        h('td', {}, e.outcome ?? ''),
      ),
    );
    const pager = h(
      'div',
      { class: 'actions' },
      h(
        'button',
        {
          type: 'button',
          disabled: offset === 0,
          onclick: () => {
            offset = Math.max(0, offset - PAGE);
            void load();
          },
        },
        'Newer',
      ),
      h(
        'button',
        {
          type: 'button',
          disabled: events.length < PAGE,
          onclick: () => {
            offset += PAGE;
            void load();
          },
        },
        'Older',
      ),
    );
    replace(
      body,
      events.length === 0 && offset === 0
        ? notice('Nobody has accessed your imaging yet.')
        : [
            h(
              'div',
              { class: 'table-wrap' },
              h(
                'table',
                { class: 'access-log' },
                h('caption', { class: 'visually-hidden' }, 'Access to my imaging'),
                h(
                  'thead',
                  {},
                  h(
                    'tr',
                    {},
                    ['When', 'Who', 'What', 'Study', 'How', 'Outcome'].map((t) =>
                      h('th', { scope: 'col' }, t),
                    ),
                  ),
                ),
                h('tbody', {}, rows),
              ),
            ),
            pager,
          ],
    );
  }

  const element = h(
    'section',
    { class: 'page' },
    h('h1', {}, 'Access log'),
    h(
      'p',
      { class: 'lede' },
      'Every search, view, download and change of access to your imaging, newest first.',
    ),
    body,
  );
  return { title: 'Access log', element, ready: () => void load() };
}
