/** Finding a doctor by name (/api/doctors?q=) and choosing one, with labelled native controls. */
import { describeError } from '../api.js';
import { h } from '../dom.js';

export function doctorPicker({ api }) {
  const search = h('input', {
    type: 'search',
    id: 'doctor-search',
    autocomplete: 'off',
    'aria-describedby': 'doctor-hint',
  });
  const select = h(
    'select',
    { id: 'doctor', required: true },
    h('option', { value: '' }, 'Search first'),
  );
  const hint = h(
    'p',
    { class: 'field-hint', id: 'doctor-hint', 'aria-live': 'polite' },
    'Type part of the name, then choose.',
  );
  let timer;
  async function find() {
    try {
      const doctors =
        (await api(`/api/doctors?q=${encodeURIComponent(search.value.trim())}`)) ?? [];
      select.replaceChildren(
        ...doctors.map((d) => h('option', { value: d.accountId }, d.displayName)),
      );
      if (doctors.length === 0) select.append(h('option', { value: '' }, 'No doctor found'));
      hint.textContent = `${doctors.length} ${doctors.length === 1 ? 'doctor' : 'doctors'} found.`;
    } catch (error) {
      hint.textContent = describeError(error, 'Finding doctors');
    }
  }
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(find, 250);
  });
  search.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      clearTimeout(timer);
      void find();
    }
  });
  return {
    element: h(
      'div',
      {},
      h('label', { for: 'doctor-search' }, 'Find a doctor'),
      search,
      hint,
      h('label', { for: 'doctor' }, 'Doctor'),
      select,
    ),
    accountId: () => select.value || undefined,
  };
}
