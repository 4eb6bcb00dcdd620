// One thought's card: title, status, the progress bar over the five steps,
// each step's rendered result, and the outcome. Built once per thought and
// updated in place (never rebuilt), so focus and open disclosures survive
// live updates.

import { excerpt, h, replaceChildren, timeEl } from './dom.js';
import { STEPS, renderResult } from './render.js';

/**
 * The card's elements for the model `m`; `final` (the thought arrived
 * already completed or failed) starts its steps folded.
 */
export function buildCard(m, final) {
  const base = `thought-${m.thought_id}`;
  const title = h('h4', { class: 'thought-title', id: `${base}-title` });
  const status = h('span', { class: 'badge status' });
  const created = h('span', { class: 'created' });
  const text = h('p', { class: 'thought-text' });
  const progress = h('progress', { max: STEPS.length, value: 0, 'aria-labelledby': `${base}-progress` });
  const progressText = h('span', { class: 'progress-text', id: `${base}-progress` });
  const steps = STEPS.map((s) => h('li', { class: 'step', dataset: { step: s.step, agent: s.agent, state: 'waiting' } },
    h('div', { class: 'step-head' },
      h('span', { class: 'step-name' }, `${s.step}. ${s.label}`),
      h('span', { class: 'step-state' }, 'waiting')),
    h('div', { class: 'step-body' })));
  const outcome = h('p', { class: 'outcome' });
  // Open while the agents work; a thought that arrives finished (the
  // list) starts folded so the list stays short.
  const stepsBox = h('details', { class: 'steps-box', open: !final },
    h('summary', {}, 'Agent steps'),
    h('ol', { class: 'steps', 'aria-label': 'Agent steps' }, steps));
  const article = h('article', { class: 'thought-card', 'aria-labelledby': `${base}-title` },
    h('header', { class: 'thought-head' }, title, status),
    h('div', { class: 'meta' }, created, h('span', { class: 'thought-id' }, `id ${m.thought_id}`)),
    text,
    h('div', { class: 'progress-row' }, progress, progressText),
    stepsBox,
    outcome);
  const li = h('li', { class: 'thought', dataset: { thoughtId: m.thought_id, status: m.status } }, article);
  return { li, title, status, created, text, progress, progressText, steps, outcome };
}

/** Shows step `s` as done with its result (the caller shows each step once). */
export function showStep(card, s, result, source) {
  const li = card.steps[s.step - 1];
  li.dataset.state = 'done';
  li.dataset.source = source;
  li.querySelector('.step-state').textContent = 'done';
  replaceChildren(li.querySelector('.step-body'), renderResult(s.result, result));
}

/** Brings the card up to date with the model. */
export function updateCard(m) {
  const c = m.card;
  c.li.dataset.status = m.status;
  c.title.textContent = m.title ?? (excerpt(m.text, 70) || 'Thought');
  c.status.textContent = m.status;
  c.status.dataset.status = m.status;
  replaceChildren(c.created, m.created_at ? ['submitted ', timeEl(m.created_at)] : []);
  c.text.textContent = m.text;
  c.text.hidden = !m.text || (m.title !== undefined && m.text === m.title);
  const done = Math.max(m.agents_completed, m.steps.size);
  c.progress.value = done;
  c.progressText.textContent = `${done} of ${STEPS.length} steps`;
  for (const li of c.steps) {
    const n = Number(li.dataset.step);
    if (li.dataset.state === 'done') continue;
    const working = m.status === 'processing' && n === done + 1;
    li.dataset.state = working ? 'working' : 'waiting';
    li.querySelector('.step-state').textContent = working ? 'working…'
      : m.status === 'failed' ? 'not reached' : 'waiting';
  }
  let outcome = '';
  if (m.status === 'completed') {
    outcome = 'completed';
  } else if (m.status === 'failed') {
    outcome = `failed: ${m.error ?? 'unknown error'}${m.attempts ? ` (after ${m.attempts} attempt${m.attempts === 1 ? '' : 's'})` : ''}`;
  } else if (m.status === 'processing' && m.attempts > 1) {
    outcome = `retrying (attempt ${m.attempts})`;
  }
  c.outcome.textContent = outcome;
  c.outcome.dataset.status = m.status;
  c.outcome.hidden = !outcome;
}
