// Building DOM without HTML strings: every text goes in as a text node, so nothing read
// from the store (prompts, answers, key names) is ever parsed as markup.

/**
 * h('a', { href: '#/x', class: 'link', onclick: fn, dataset: { field: 'id' } }, 'text', child)
 * Attributes are set with setAttribute (never innerHTML); `on…` functions become listeners.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name === 'value') el.value = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** Replace an element's content. */
export function show(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A table: `columns` [{ label, cell(row) → node or text, field? }]. */
export function table(columns, rows, options = {}) {
  return h('div', { class: 'table-wrap' },
    h('table', { class: options.class ?? '' },
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c.label)))),
      h('tbody', {}, rows.length === 0
        ? h('tr', {}, h('td', { colspan: columns.length, class: 'muted' }, options.empty ?? 'Nothing to show.'))
        : rows.map((row) => h('tr', options.rowAttrs ? options.rowAttrs(row) : {}, columns.map((c) => h('td', { 'data-label': c.label, dataset: c.field ? { field: c.field } : undefined }, c.cell(row))))))));
}

/** A definition list of [label, value, field?] pairs. */
export function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.flatMap(([label, value, field]) => [h('dt', {}, label), h('dd', { dataset: field ? { field } : undefined }, value ?? '—')]));
}

/** A status line the page reports into (copied, saved, failed). */
export function notice(el, text, kind = 'ok') {
  show(el, text);
  el.className = `notice ${kind}`;
}
