/**
 * Sharing: the doctors I gave access to (grants) and my share links, each listed with a Revoke
 * button, and a form to create each. A share link's token is shown once, right after creation (the
 * archive keeps only its hash). A doctor sees the grants they received instead.
 */
import { ApiError, describeError } from '../api.js';
import { announce, dateTime, h, notice, replace } from '../dom.js';
import {
  accessChoice,
  dateInDays,
  endOfDay,
  loadScopeChoices,
  scopeSelect,
  stateOf,
} from '../scopes.js';
import { doctorPicker } from './doctor-picker.js';

function table(caption, headings, rows) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      h('caption', { class: 'visually-hidden' }, caption),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          headings.map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      h('tbody', {}, rows),
    ),
  );
}

function revokeButton(label, onRevoke) {
  return h(
    'button',
    { type: 'button', class: 'danger', 'aria-label': label, onclick: onRevoke },
    'Revoke',
  );
}

function grantsSection(context, scopes) {
  const doctor = context.me?.kind === 'doctor';
  const section = h('section', { 'aria-labelledby': 'grants-title' });
  const list = h('div', {});
  async function refresh() {
    let grants;
    try {
      grants = (await context.api('/api/grants')) ?? [];
    } catch (error) {
      replace(
        list,
        notice(
          describeError(error, 'Access given to doctors'),
          error instanceof ApiError && error.status === 404 ? 'info' : 'error',
        ),
      );
      return;
    }
    if (grants.length === 0) {
      replace(
        list,
        notice(
          doctor
            ? 'No patient has shared imaging with you.'
            : 'No doctor has access to your imaging.',
        ),
      );
      return;
    }
    const rows = grants.map((g) =>
      h(
        'tr',
        { class: `state-${stateOf(g)}`, 'data-grant': g.grantId },
        h('td', {}, g.grantee?.displayName ?? ''),
        h('td', {}, scopes.describe(g.scope)),
        h('td', {}, g.access === 'download' ? 'View and download' : 'View only'),
        h('td', {}, g.expiresAt ? dateTime(g.expiresAt) : 'No end date'),
        h('td', {}, stateOf(g)),
        h(
          'td',
          {},
          !doctor &&
            stateOf(g) === 'active' &&
            revokeButton(
              `Revoke access of ${g.grantee?.displayName ?? 'this doctor'}`,
              async () => {
                try {
                  await context.api(`/api/grants/${encodeURIComponent(g.grantId)}`, {
                    method: 'DELETE',
                    as: 'none',
                  });
                  announce('Access revoked.');
                } catch (error) {
                  announce(describeError(error, 'Revoking'));
                }
                await refresh();
              },
            ),
        ),
      ),
    );
    replace(
      list,
      table('Grants', [doctor ? 'From' : 'Doctor', 'What', 'Access', 'Until', 'State', ''], rows),
    );
  }
  const parts = [
    h('h2', { id: 'grants-title' }, doctor ? 'Shared with me' : 'Doctors with access'),
    list,
  ];
  if (!doctor) parts.push(grantForm(context, scopes, refresh));
  section.append(...parts);
  return { element: section, refresh };
}

function grantForm(context, scopes, refresh) {
  const picker = doctorPicker(context);
  const scope = scopeSelect('grant-scope', scopes.choices);
  const access = accessChoice('grant-access');
  const expires = h('input', { type: 'date', id: 'grant-expires', min: dateInDays(1) });
  const feedback = h('p', { role: 'status', class: 'field-hint' });
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'grant-form-title' },
    h('h3', { id: 'grant-form-title' }, 'Give a doctor access'),
    picker.element,
    h('label', { for: 'grant-scope' }, 'What they may see'),
    scope,
    access,
    h('label', { for: 'grant-expires' }, 'Until (optional)'),
    expires,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', class: 'primary' }, 'Give access'),
    ),
    feedback,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const accountId = picker.accountId();
    if (!accountId) {
      feedback.textContent = 'Choose a doctor first.';
      return;
    }
    try {
      await context.api('/api/grants', {
        method: 'POST',
        body: {
          grantee: { accountId },
          scope: scope.scope(),
          access: access.access(),
          expiresAt: endOfDay(expires.value),
        },
      });
      feedback.textContent = 'Access given.';
      announce('Access given.');
      await refresh();
    } catch (error) {
      feedback.textContent = describeError(error, 'Giving access');
    }
  });
  return form;
}

function linksSection(context, scopes) {
  const list = h('div', {});
  const created = h('div', { 'aria-live': 'polite' });
  async function refresh() {
    let links;
    try {
      links = (await context.api('/api/share-links')) ?? [];
    } catch (error) {
      replace(
        list,
        notice(
          describeError(error, 'Share links'),
          error instanceof ApiError && error.status === 404 ? 'info' : 'error',
        ),
      );
      return;
    }
    if (links.length === 0) return replace(list, notice('You have no share links.'));
    const rows = links.map((l) =>
      h(
        'tr',
        { class: `state-${stateOf(l)}`, 'data-share-link': l.shareLinkId },
        h('td', {}, scopes.describe(l.scope)),
        h('td', {}, l.access === 'download' ? 'View and download' : 'View only'),
        h('td', {}, l.expiresAt ? dateTime(l.expiresAt) : 'No end date'),
        h('td', {}, l.hasPin || l.pinProtected ? 'Yes' : l.hasPin === false ? 'No' : ''),
        h('td', {}, stateOf(l)),
        h(
          'td',
          {},
          stateOf(l) === 'active' &&
            revokeButton('Revoke this share link', async () => {
              try {
                await context.api(`/api/share-links/${encodeURIComponent(l.shareLinkId)}`, {
                  method: 'DELETE',
                  as: 'none',
                });
                announce('Share link revoked.');
              } catch (error) {
                announce(describeError(error, 'Revoking'));
              }
              await refresh();
            }),
        ),
      ),
    );
    replace(list, table('Share links', ['What', 'Access', 'Until', 'PIN', 'State', ''], rows));
  }
  const section = h(
    'section',
    { 'aria-labelledby': 'links-title' },
    h('h2', { id: 'links-title' }, 'Share links'),
    h(
      'p',
      { class: 'lede' },
      'Anyone with a link (and its PIN, if you set one) can view what it shares until it expires or you revoke it.',
    ),
    list,
    linkForm(context, scopes, created, refresh),
    created,
  );
  return { element: section, refresh };
}

function linkForm(context, scopes, created, refresh) {
  const scope = scopeSelect(
    'link-scope',
    scopes.choices.filter((c) => c.scope.StudyInstanceUID || c.scope.patientKey),
  );
  const access = accessChoice('link-access');
  const expires = h('input', {
    type: 'date',
    id: 'link-expires',
    required: true,
    value: dateInDays(7),
    min: dateInDays(1),
  });
  const pin = h('input', {
    type: 'text',
    id: 'link-pin',
    inputmode: 'numeric',
    pattern: '[0-9]{4,12}',
    autocomplete: 'off',
    'aria-describedby': 'link-pin-hint',
  });
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'link-form-title' },
    h('h3', { id: 'link-form-title' }, 'Create a share link'),
    h('label', { for: 'link-scope' }, 'What it shares'),
    scope,
    access,
    h('label', { for: 'link-expires' }, 'Valid until'),
    expires,
    h('label', { for: 'link-pin' }, 'PIN (optional)'),
    pin,
    h(
      'p',
      { class: 'field-hint', id: 'link-pin-hint' },
      '4 to 12 digits. Give the PIN separately from the link.',
    ),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', class: 'primary' }, 'Create link'),
    ),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const link = await context.api('/api/share-links', {
        method: 'POST',
        body: {
          scope: scope.scope(),
          access: access.access(),
          expiresAt: endOfDay(expires.value),
          pin: pin.value || undefined,
        },
      });
      const url = new URL(link.portalUrl, location.origin).href;
      const field = h('input', {
        type: 'text',
        id: 'created-link',
        class: 'once',
        readonly: true,
        value: url,
      });
      const copy = h(
        'button',
        {
          type: 'button',
          onclick: async () => {
            field.select();
            await navigator.clipboard?.writeText(url).catch(() => undefined);
            announce('Link copied.');
          },
        },
        'Copy link',
      );
      replace(
        created,
        h(
          'div',
          { class: 'card notice-ok', role: 'status' },
          h('h3', {}, 'Your share link'),
          h('p', {}, 'Copy it now: it is shown only this once.'),
          h('label', { for: 'created-link' }, 'Link'),
          field,
          h('div', { class: 'actions' }, copy),
          h(
            'p',
            { class: 'field-hint' },
            `DICOMweb viewers can use ${new URL(link.dicomWebRoot, location.origin).href}`,
          ),
        ),
      );
      pin.value = '';
      field.focus();
      field.select();
      await refresh();
    } catch (error) {
      replace(created, notice(describeError(error, 'Creating the link'), 'error'));
    }
  });
  return form;
}

export async function sharesPage(context) {
  const scopes = await loadScopeChoices(context);
  const grants = grantsSection(context, scopes);
  const links = context.me?.kind === 'doctor' ? undefined : linksSection(context, scopes);
  const element = h(
    'section',
    { class: 'page' },
    h('h1', {}, 'Sharing'),
    grants.element,
    links?.element,
  );
  return {
    title: 'Sharing',
    element,
    ready: () => void Promise.all([grants.refresh(), links?.refresh()]),
  };
}
