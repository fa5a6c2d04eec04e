/**
 * What a grant or share link covers, in the API's terms ({ patientKey } | { StudyInstanceUID } |
 * { StudyInstanceUID, SeriesInstanceUID }) and in words: the choices come from the account's patient
 * records (/api/patient-records) and its studies (QIDO-RS).
 */
import { describeError } from './api.js';
import { h } from './dom.js';
import { personName, studyDate, value } from './dicom-json.js';

/** Loads what a scope can name; either list may be empty when its API is not available. */
export async function loadScopeChoices({ api, dicomweb }) {
  const [records, studies] = await Promise.all([
    api('/api/patient-records').catch(() => []),
    dicomweb.searchForStudies().catch(() => []),
  ]);
  const recordLabel = (r) =>
    `All my imaging${r.PatientName ? ` as ${personName(r.PatientName)}` : ''}${r.PatientID ? ` (ID ${r.PatientID})` : ''}`;
  const studyLabel = (s) =>
    `${studyDate(value(s, 'StudyDate'))} — ${value(s, 'StudyDescription') || 'Study'}`;
  const choices = [
    ...(records ?? []).map((r) => ({
      scope: { patientKey: String(r.patientKey) },
      label: recordLabel(r),
    })),
    ...studies.map((s) => ({
      scope: { StudyInstanceUID: value(s, 'StudyInstanceUID') },
      label: studyLabel(s),
    })),
  ];
  return {
    choices,
    describe(scope) {
      if (!scope) return '';
      if (scope.patientKey !== undefined) {
        return (
          choices.find((c) => c.scope.patientKey === String(scope.patientKey))?.label ??
          'All imaging of a record'
        );
      }
      const study =
        choices.find((c) => c.scope.StudyInstanceUID === scope.StudyInstanceUID)?.label ??
        'A study';
      return scope.SeriesInstanceUID ? `One series of: ${study}` : study;
    },
  };
}

/** A <select> of the scope choices; `.scope()` gives the chosen scope object. */
export function scopeSelect(id, choices) {
  const select = h(
    'select',
    { id, name: 'scope', required: true },
    choices.map((c, i) => h('option', { value: String(i) }, c.label)),
  );
  select.scope = () => choices[Number(select.value)]?.scope;
  return select;
}

/** read | download radio buttons; `.access()` gives the choice. */
export function accessChoice(name) {
  const read = h('input', {
    type: 'radio',
    name,
    id: `${name}-read`,
    value: 'read',
    checked: true,
  });
  const download = h('input', { type: 'radio', name, id: `${name}-download`, value: 'download' });
  const fieldset = h(
    'fieldset',
    {},
    h('legend', {}, 'Access'),
    read,
    h('label', { for: `${name}-read` }, 'View only'),
    download,
    h('label', { for: `${name}-download` }, 'View and download'),
  );
  fieldset.access = () => (download.checked ? 'download' : 'read');
  return fieldset;
}

/** A date input's value as the end of that day, local time, in ISO 8601; undefined when empty. */
export function endOfDay(dateValue) {
  return dateValue ? new Date(`${dateValue}T23:59:59`).toISOString() : undefined;
}

/** Today + `days` as an <input type=date> value. */
export function dateInDays(days) {
  const d = new Date(Date.now() + days * 86_400_000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** Active, expired or revoked, for a grant or a link. */
export function stateOf(item) {
  if (item.revokedAt) return 'revoked';
  if (item.expiresAt && new Date(item.expiresAt) < new Date()) return 'expired';
  return 'active';
}

export { describeError };
