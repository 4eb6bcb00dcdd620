// How the five agents' results are shown. Each renderer takes the result
// object (fields may be missing or extra: they are read defensively) and
// returns DOM nodes; a collapsed "raw result" disclosure keeps every field
// reachable.

import { h, num, percent, timeEl } from './dom.js';

/** The five steps in pipeline order. */
export const STEPS = [
  { step: 1, agent: 'classify', result: 'classification', label: 'Classify' },
  { step: 2, agent: 'analyse', result: 'analysis', label: 'Analyse' },
  { step: 3, agent: 'value', result: 'value', label: 'Value' },
  { step: 4, agent: 'plan', result: 'plan', label: 'Plan' },
  { step: 5, agent: 'summarise', result: 'summary', label: 'Summarise' },
];

export const stepByAgent = (agent) => STEPS.find((s) => s.agent === agent);
export const stepByResult = (name) => STEPS.find((s) => s.result === name);

const arr = (v) => (Array.isArray(v) ? v : []);
const str = (v) => (v === null || v === undefined ? '' : String(v));

function field(label, ...value) {
  return h('div', { class: 'field' }, h('dt', {}, label), h('dd', {}, ...value));
}

function fields(...items) {
  return h('dl', { class: 'fields' }, ...items.filter(Boolean));
}

function chips(items, className = 'chip') {
  if (!items.length) return h('span', { class: 'muted' }, 'none');
  return h('ul', { class: 'chips' }, items.map((t) => h('li', { class: className }, t)));
}

/** A 0..1 (or 0..10) score as a meter plus its number. */
function score(value, label) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return h('span', { class: 'muted' }, '—');
  const max = value <= 1 ? 1 : 10;
  return h('span', { class: 'score' },
    h('meter', { min: 0, max, value, 'aria-label': label }),
    h('span', { class: 'score-value' }, max === 1 ? num(value) : `${num(value, 1)} / 10`));
}

function priorityBadge(p) {
  if (p === null || p === undefined || p === '') return null;
  const word = str(p).toLowerCase();
  return h('span', { class: ['badge', 'priority', `priority-${word.replace(/[^a-z0-9-]/g, '')}`] }, str(p));
}

function classification(r) {
  const signals = arr(r.signals).map((s) => (typeof s === 'string' ? s : s?.text ?? JSON.stringify(s)));
  const scores = r.scores && typeof r.scores === 'object' && !Array.isArray(r.scores)
    ? Object.entries(r.scores).sort((a, b) => b[1] - a[1]).slice(0, 4)
    : [];
  return fields(
    field('Category', h('strong', { class: 'category' }, str(r.category) || '—')),
    field('Confidence', typeof r.confidence === 'number' ? percent(r.confidence) : '—'),
    scores.length > 1 && field('Other candidates',
      scores.slice(1).map(([k, v]) => h('span', { class: 'alt' }, `${k} ${percent(v)}`))),
    signals.length > 0 && field('Signals', chips(signals.slice(0, 8))),
  );
}

function analysis(r) {
  const keywords = arr(r.keywords).map((k) => (typeof k === 'string' ? k : str(k?.term))).filter(Boolean);
  const sentiment = r.sentiment && typeof r.sentiment === 'object' ? r.sentiment : null;
  const entities = arr(r.entities).map((e) => (typeof e === 'string' ? e : `${str(e?.text)}${e?.type ? ` (${e.type})` : ''}`));
  const dates = arr(r.dates).map((d) => (typeof d === 'string' ? d : `${str(d?.text)}${d?.date ? ` → ${d.date}` : ''}`));
  const counts = ['words', 'sentences'].filter((k) => typeof r[k] === 'number').map((k) => `${r[k]} ${k}`);
  return fields(
    field('Keywords', chips(keywords.slice(0, 10))),
    field('Sentiment', sentiment
      ? h('span', { class: ['sentiment', `sentiment-${str(sentiment.label).toLowerCase()}`] },
          `${str(sentiment.label) || '—'}${typeof sentiment.score === 'number' ? ` (${num(sentiment.score)})` : ''}`)
      : '—'),
    entities.length > 0 && field('Entities', chips(entities.slice(0, 8))),
    dates.length > 0 && field('Dates', chips(dates.slice(0, 6))),
    counts.length > 0 && field('Size', counts.join(', ')),
  );
}

function value(r) {
  return fields(
    field('Importance', score(r.importance, 'importance')),
    field('Urgency', score(r.urgency, 'urgency')),
    field('Actionability', score(r.actionability, 'actionability')),
    (r.priority !== undefined || r.score !== undefined) && field('Priority',
      priorityBadge(r.priority), typeof r.score === 'number' ? ` score ${num(r.score)}` : ''),
    arr(r.reasons).length > 0 && field('Why', h('ul', { class: 'reasons' },
      arr(r.reasons).map((x) => h('li', {}, str(x))))),
  );
}

function plan(r) {
  const actions = arr(r.actions);
  const list = actions.length
    ? h('ol', { class: 'actions' }, actions.map((a) => {
      if (typeof a === 'string') return h('li', {}, a);
      const due = a?.due ? h('span', { class: 'due' }, 'due ', timeEl(a.due, 'due-date') ?? a.due,
        a.due_text ? ` (${a.due_text})` : '')
        : a?.due_text ? h('span', { class: 'due' }, `due ${a.due_text}`) : null;
      return h('li', { class: 'action' }, h('span', { class: 'action-text' }, str(a?.text)),
        due ? ' — ' : '', due, a?.priority ? ' ' : '', priorityBadge(a?.priority));
    }))
    : h('p', { class: 'muted' }, 'No actions.');
  return h('div', {}, list,
    r.next_step ? fields(field('Next step', str(typeof r.next_step === 'string' ? r.next_step : r.next_step?.text ?? JSON.stringify(r.next_step)))) : null);
}

function summary(r) {
  return h('div', { class: 'summary' },
    r.title ? h('p', { class: 'summary-title' }, str(r.title)) : null,
    r.summary ? h('p', { class: 'summary-text' }, str(r.summary)) : null,
    fields(
      r.category && field('Category', str(r.category)),
      r.priority !== undefined && field('Priority', priorityBadge(r.priority)),
      typeof r.action_count === 'number' && field('Actions', String(r.action_count)),
    ));
}

const RENDERERS = { classification, analysis, value, plan, summary };

/** The rendered result of one step (any object; unknown shapes as JSON). */
export function renderResult(resultName, result) {
  const render = RENDERERS[resultName];
  let body;
  if (result === null || result === undefined) {
    body = h('p', { class: 'muted' }, 'No result.');
  } else if (typeof result !== 'object' || !render) {
    body = h('pre', { class: 'raw' }, JSON.stringify(result, null, 2));
  } else {
    try {
      body = render(result);
    } catch (e) {
      console.warn('distiller: cannot render', resultName, e);
      body = h('pre', { class: 'raw' }, JSON.stringify(result, null, 2));
    }
  }
  const raw = result && typeof result === 'object'
    ? h('details', { class: 'raw-details' }, h('summary', {}, 'Raw result'),
        h('pre', { class: 'raw' }, JSON.stringify(result, null, 2)))
    : null;
  return [body, raw];
}
