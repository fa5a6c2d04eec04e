/**
 * The study viewer: series list, and one image area showing the rendered resource (PS3.18
 * §10.4.1.1.5) of the current frame. Scroll through instances and frames with the wheel, the arrow
 * keys, Page Up/Down, Home/End, the slider or the buttons; change window/level by dragging
 * (horizontal: width, vertical: level), with Shift + arrow keys, or with a preset. The server renders
 * every image; the page only asks for `window=center,width,linear` and shows the PNG it gets.
 * Requests never pile up: while one image loads, only the latest wanted state is remembered.
 */
import { h, announce } from '../dom.js';
import { value } from '../dicom-json.js';
import { seriesList } from './series-list.js';
import { describePosition, stackOf } from './stack.js';
import { describeWindow, dragWindow, initialWindow, isColor, presetsFor } from './window-level.js';

export function createViewer(dicomweb, StudyInstanceUID, seriesDatasets) {
  const state = {
    series: undefined,
    stack: undefined,
    index: 0,
    window: undefined,
    start: undefined,
    metadata: undefined,
  };
  const img = h('img', { class: 'rendered', alt: '', draggable: 'false' });
  const frame = h(
    'div',
    {
      class: 'image-frame',
      tabindex: 0,
      role: 'group',
      'aria-roledescription': 'image viewer',
      'aria-label':
        'Image. Arrow keys or the mouse wheel move through the images; drag, or Shift with the arrow keys, changes window and level.',
    },
    img,
  );
  const position = h('p', { class: 'position', id: 'viewer-position', 'aria-live': 'polite' });
  const windowText = h('p', { class: 'window-text' }, describeWindow(undefined));
  const slider = h('input', {
    type: 'range',
    min: 1,
    max: 1,
    value: 1,
    'aria-label': 'Image position',
    class: 'slider',
  });
  const presets = h('div', { class: 'presets', role: 'group', 'aria-label': 'Window presets' });
  const previous = h(
    'button',
    {
      type: 'button',
      class: 'step',
      'aria-label': 'Previous image',
      onclick: () => go(state.index - 1),
    },
    '‹',
  );
  const next = h(
    'button',
    {
      type: 'button',
      class: 'step',
      'aria-label': 'Next image',
      onclick: () => go(state.index + 1),
    },
    '›',
  );
  const list = seriesList(dicomweb, StudyInstanceUID, seriesDatasets, (s) => void selectSeries(s));

  let loading = false;
  let dirty = false;
  let shownURL;

  async function render() {
    if (!state.stack) return;
    if (loading) {
      dirty = true;
      return;
    }
    loading = true;
    try {
      do {
        dirty = false;
        const p = state.stack.positions[state.index];
        const path = dicomweb.renderedFramePath(p.instance, p.frame, state.window);
        if (img.dataset.rendered === path) continue;
        frame.setAttribute('aria-busy', 'true');
        const url = await dicomweb.imageURL(path);
        await new Promise((resolve) => {
          img.onload = img.onerror = resolve;
          img.src = url;
        });
        if (shownURL) URL.revokeObjectURL(shownURL);
        shownURL = url;
        img.dataset.rendered = path;
        img.alt = `${describePosition(state.stack, state.index)} of ${value(state.series, 'SeriesDescription') || 'this series'}`;
      } while (dirty);
    } catch (error) {
      img.alt = 'This image could not be shown.';
      announce(`The image could not be shown (${error.message}).`);
    } finally {
      loading = false;
      frame.removeAttribute('aria-busy');
    }
  }

  function go(index) {
    if (!state.stack) return;
    const clamped = Math.min(Math.max(index, 0), state.stack.positions.length - 1);
    if (clamped === state.index && img.dataset.rendered) return;
    state.index = clamped;
    slider.value = String(clamped + 1);
    position.textContent = describePosition(state.stack, clamped);
    void render();
  }

  function setWindow(window) {
    state.window = window;
    windowText.textContent = describeWindow(window);
    markPreset();
    void render();
  }

  function showPresets() {
    const color = isColor(state.metadata);
    frame.classList.toggle('color', color);
    const buttons = color
      ? [h('span', { class: 'hint' }, 'Colour image: window and level do not apply.')]
      : [
          h(
            'button',
            { type: 'button', 'data-preset': 'Default', onclick: () => setWindow(undefined) },
            'Default',
          ),
          ...presetsFor(state.metadata).map((p) =>
            h(
              'button',
              {
                type: 'button',
                'data-preset': p.name,
                onclick: () => setWindow({ center: p.center, width: p.width }),
              },
              p.name,
            ),
          ),
        ];
    presets.replaceChildren(...buttons);
    markPreset();
  }

  /** aria-pressed on the preset whose window is the current one (Default: the stored window). */
  function markPreset() {
    const all = [{ name: 'Default' }, ...presetsFor(state.metadata)];
    for (const button of presets.querySelectorAll('button[data-preset]')) {
      const preset = all.find((p) => p.name === button.dataset.preset);
      const pressed = preset?.width
        ? state.window?.center === preset.center && state.window?.width === preset.width
        : state.window === undefined;
      button.setAttribute('aria-pressed', String(pressed));
    }
  }

  async function selectSeries(series) {
    const SeriesInstanceUID = value(series, 'SeriesInstanceUID');
    list.markCurrent(SeriesInstanceUID);
    const instances = await dicomweb.searchForInstances(StudyInstanceUID, SeriesInstanceUID);
    state.series = series;
    state.stack = stackOf(StudyInstanceUID, SeriesInstanceUID, instances);
    state.window = undefined;
    state.index = 0;
    delete img.dataset.rendered;
    windowText.textContent = describeWindow(undefined);
    slider.max = String(Math.max(1, state.stack.positions.length));
    slider.disabled = state.stack.positions.length < 2;
    state.metadata = state.stack.positions[0]
      ? await dicomweb
          .retrieveInstanceMetadata(state.stack.positions[0].instance)
          .catch(() => undefined)
      : undefined;
    showPresets();
    go(0);
  }

  // Scrolling: wheel (a notch is ~100 px of delta; trackpads send many small deltas), keys, slider.
  let wheel = 0;
  frame.addEventListener(
    'wheel',
    (event) => {
      event.preventDefault();
      wheel += event.deltaY;
      if (Math.abs(wheel) < 50) return;
      go(state.index + Math.sign(wheel));
      wheel = 0;
    },
    { passive: false },
  );
  frame.addEventListener('keydown', (event) => {
    const step = {
      ArrowDown: 1,
      ArrowRight: 1,
      ArrowUp: -1,
      ArrowLeft: -1,
      PageDown: 10,
      PageUp: -10,
    }[event.key];
    if (event.shiftKey && step && Math.abs(step) === 1 && !isColor(state.metadata)) {
      const from = state.window ?? initialWindow(state.metadata);
      const horizontal = event.key === 'ArrowLeft' || event.key === 'ArrowRight';
      setWindow(dragWindow(from, horizontal ? step * 16 : 0, horizontal ? 0 : step * 16));
    } else if (step) go(state.index + step);
    else if (event.key === 'Home') go(0);
    else if (event.key === 'End') go(Number.MAX_SAFE_INTEGER);
    else return;
    event.preventDefault();
  });
  slider.addEventListener('input', () => go(Number(slider.value) - 1));

  // Window/level by dragging (mouse, pen or finger).
  let drag;
  frame.addEventListener('pointerdown', (event) => {
    if (event.button !== 0 || isColor(state.metadata)) return;
    drag = {
      x: event.clientX,
      y: event.clientY,
      from: state.window ?? initialWindow(state.metadata),
    };
    frame.setPointerCapture(event.pointerId);
  });
  frame.addEventListener('pointermove', (event) => {
    if (drag) setWindow(dragWindow(drag.from, event.clientX - drag.x, event.clientY - drag.y));
  });
  const endDrag = () => (drag = undefined);
  frame.addEventListener('pointerup', endDrag);
  frame.addEventListener('pointercancel', endDrag);

  const element = h(
    'div',
    { class: 'viewer' },
    h('nav', { class: 'viewer-series', 'aria-label': 'Series of this study' }, list.element),
    h(
      'section',
      { class: 'viewer-main', 'aria-label': 'Image' },
      h('div', { class: 'toolbar' }, presets, windowText),
      frame,
      h('div', { class: 'scrub' }, previous, slider, next),
      position,
    ),
  );

  return {
    element,
    async start() {
      void list.loadThumbnails();
      if (seriesDatasets[0]) await selectSeries(seriesDatasets[0]);
    },
    destroy() {
      if (shownURL) URL.revokeObjectURL(shownURL);
    },
  };
}
