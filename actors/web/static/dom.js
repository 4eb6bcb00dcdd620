// Small DOM helpers shared by the page's modules. Everything the page shows
// is built with these (elements and text nodes, never parsed markup), so text
// from users and documents can never become markup.

// Set as properties rather than attributes (a <progress>'s value, …).
const PROPERTIES = new Set(['value', 'max', 'min', 'hidden', 'disabled', 'checked', 'open']);

/**
 * Creates an element: h('p', {class: 'x', dataset: {id: 1}}, 'text', child).
 * Attributes whose value is null, undefined or false are left out; `true`
 * sets an empty attribute. Children may be strings, numbers, nodes, arrays
 * or null (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'dataset') {
      for (const [k, v] of Object.entries(value)) el.dataset[k] = String(v);
    } else if (name === 'class') {
      el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    } else if (name === 'text') {
      el.textContent = String(value);
    } else if (PROPERTIES.has(name)) {
      el[name] = value;
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

/** Appends children (same forms as h) to `el`. */
export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Removes every child of `el` and appends `children`. */
export function replaceChildren(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** `id` as an element, or an Error naming it (a wiring mistake). */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no element #${id}`);
  return el;
}

/** A <time> element for an ISO timestamp, in the reader's locale. */
export function timeEl(iso, className = 'time') {
  if (!iso) return null;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return h('span', { class: className }, iso);
  // A plain date ("2026-12-04") is a calendar day, not midnight UTC.
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) {
    return h('time', { class: className, datetime: iso },
             d.toLocaleDateString(undefined, { timeZone: 'UTC', weekday: 'short', year: 'numeric', month: 'short', day: 'numeric' }));
  }
  return h('time', { class: className, datetime: iso, title: d.toISOString() },
           d.toLocaleString());
}

/** A number rounded for display (integers stay integers). */
export function num(value, digits = 2) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return String(value ?? '—');
  if (Number.isInteger(value)) return String(value);
  return value.toFixed(digits);
}

/** 0.87 → "87%" (values above 1 are taken as percentages already). */
export function percent(value) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '—';
  const p = value <= 1 ? value * 100 : value;
  return `${Math.round(p)}%`;
}

/** The first `max` code points of `text`, with an ellipsis when cut. */
export function excerpt(text, max = 80) {
  const chars = [...String(text ?? '')];
  if (chars.length <= max) return chars.join('');
  return chars.slice(0, max - 1).join('').trimEnd() + '…';
}

/** Screen-reader announcements (the page's aria-live="polite" region). */
export function announce(message) {
  const region = document.getElementById('announcer');
  if (!region) return;
  // One element per message: polite regions read additions; old messages
  // are trimmed so the region stays small.
  region.append(h('p', {}, message));
  while (region.childElementCount > 5) region.firstElementChild.remove();
}

/** Shows `message` in an error element (empty hides it). */
export function showError(el, message) {
  el.textContent = message ?? '';
  el.hidden = !message;
}
