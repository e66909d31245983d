// Small DOM builders. Everything from the API is set as text (textContent), never as HTML, so a
// model name or an audit reason cannot inject markup; and no inline style, which the
// Content-Security-Policy forbids anyway.

export function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') node.textContent = String(value);
    else if (key === 'class') node.className = value;
    else if (key === 'on') for (const [event, fn] of Object.entries(value)) node.addEventListener(event, fn);
    else if (key === 'data') for (const [k, v] of Object.entries(value)) node.dataset[k] = String(v);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of [].concat(children)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// A table with a header row; each row is an array of cells (text or nodes), or {cells, data}.
export function table(headers, rows, props = {}) {
  return el('table', props, [
    el('thead', {}, el('tr', {}, headers.map((h) => el('th', { text: h })))),
    el('tbody', {}, rows.map((row) => {
      const cells = Array.isArray(row) ? row : row.cells;
      return el('tr', { data: Array.isArray(row) ? undefined : row.data }, cells.map((c) => el('td', {}, c ?? '')));
    })),
  ]);
}

export function replace(target, ...nodes) {
  target.replaceChildren(...nodes);
}

export function empty(text) {
  return el('p', { class: 'muted', text });
}

export function formatTime(ms) {
  if (!ms) return '';
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function formatNumber(v, digits = 3) {
  return typeof v === 'number' && Number.isFinite(v) ? String(Number(v.toPrecision(digits))) : '–';
}
