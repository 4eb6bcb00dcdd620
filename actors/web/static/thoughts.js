// The thoughts panel: the user id, the submit form, the user's thoughts
// (newest first, "load more" through the `next` cursor) and the live stream
// that moves each thought through its five agent steps.
//
// One model per thought (Map by thought_id) is fed from three sources — the
// POST answer, the list/GET answers and the stream's events — and merged so
// that progress never goes backwards: a status only moves forward, a step
// once shown is never shown again, and results missing from one source are
// taken from another. The cards themselves are thought_card.js.

import { ApiError, getJson, postJson, withQuery } from './api.js';
import { announce, byId, excerpt, showError } from './dom.js';
import { STEPS, stepByAgent, stepByResult } from './render.js';
import { ResumableStream } from './stream.js';
import { buildCard, showStep, updateCard } from './thought_card.js';

const USER_KEY = 'distiller.user_id';
const PAGE_SIZE = 20;
// The node's default limit; the counter warns above it, the node decides
// (413 text_too_long names its configured limit).
const TEXT_LIMIT = 10000;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RANK = { pending: 0, processing: 1, completed: 2, failed: 2 };
const PIPELINE_EVENTS = ['thought_created', 'thought_processing', 'thought_agent_completed',
                         'thought_completed', 'thought_failed'];
const STATE_TEXT = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting', paused: 'Paused' };

/** A random version-4 UUID (crypto.randomUUID needs a secure context). */
export function newUserId() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function storedUserId() {
  try {
    const v = localStorage.getItem(USER_KEY);
    if (v && UUID_RE.test(v)) return v.toLowerCase();
  } catch {
    // storage disabled: a fresh id per visit
  }
  const id = newUserId();
  saveUserId(id);
  return id;
}

function saveUserId(id) {
  try {
    localStorage.setItem(USER_KEY, id);
  } catch {
    // storage disabled
  }
}

const codePoints = (s) => [...s].length;
const rank = (status) => RANK[status] ?? 0;
const time = (iso) => (iso ? Date.parse(iso) || 0 : 0);

export class ThoughtsPanel {
  constructor() {
    this.el = {
      userForm: byId('user-form'),
      userId: byId('user-id'),
      userNew: byId('user-new'),
      userError: byId('user-id-error'),
      form: byId('thought-form'),
      text: byId('thought-text'),
      count: byId('thought-count'),
      error: byId('thought-error'),
      submit: byId('thought-submit'),
      list: byId('thought-list'),
      empty: byId('thought-empty'),
      listError: byId('thought-list-error'),
      more: byId('thought-more'),
      refresh: byId('thought-refresh'),
      conn: byId('conn-state'),
      connToggle: byId('conn-toggle'),
    };
    this.thoughts = new Map();
    this.next = null;
    this.listLoaded = false;
    this.log = []; // pipeline events as applied, for tests and debugging
    this.userId = storedUserId();
    this.stream = null;
    this.bind();
  }

  start() {
    this.el.userId.value = this.userId;
    this.updateCounter();
    this.connect();
  }

  // -- wiring ----------------------------------------------------------------

  bind() {
    const el = this.el;
    el.userForm.addEventListener('submit', (e) => {
      e.preventDefault();
      this.changeUser(el.userId.value.trim());
    });
    el.userNew.addEventListener('click', () => {
      const id = newUserId();
      el.userId.value = id;
      this.changeUser(id);
    });
    el.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
    el.text.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && !e.altKey) {
        e.preventDefault();
        el.form.requestSubmit();
      }
    });
    el.text.addEventListener('input', () => {
      this.updateCounter();
      el.text.removeAttribute('aria-invalid');
    });
    el.more.addEventListener('click', () => this.loadList({ more: true }));
    el.refresh.addEventListener('click', () => this.refetchAll());
    el.connToggle.addEventListener('click', () => {
      if (this.stream.paused) this.stream.resume();
      else this.stream.pause('user');
    });
  }

  connect() {
    const userId = this.userId;
    this.stream = new ResumableStream({
      urlFor: (lastId) => withQuery(`/thoughts/stream/${encodeURIComponent(userId)}`,
                                    { last_event_id: lastId }),
      eventTypes: PIPELINE_EVENTS,
      onEvent: (type, data, id) => this.applyEvent(type, data, id),
      onReady: () => {
        // The list is read once the stream is live, so nothing that happens
        // between the two is missed.
        if (!this.listLoaded) this.loadList();
      },
      onReset: () => this.refetchAll(),
      onState: (s) => this.showConnection(s),
    });
    this.stream.start();
    // If the stream cannot come up, show the stored thoughts anyway.
    this.fallbackTimer = setTimeout(() => {
      if (!this.listLoaded) this.loadList();
    }, 3000);
  }

  changeUser(id) {
    if (!UUID_RE.test(id)) {
      showError(this.el.userError, 'A user id is a UUID such as 3f2a6c1e-9b7d-4e8f-a1b2-c3d4e5f60718.');
      this.el.userId.setAttribute('aria-invalid', 'true');
      this.el.userId.focus();
      return;
    }
    showError(this.el.userError, '');
    this.el.userId.removeAttribute('aria-invalid');
    id = id.toLowerCase();
    this.el.userId.value = id;
    if (id === this.userId) return;
    this.userId = id;
    saveUserId(id);
    clearTimeout(this.fallbackTimer);
    this.stream.stop();
    this.thoughts.clear();
    this.log = [];
    this.next = null;
    this.listLoaded = false;
    this.el.list.replaceChildren();
    this.el.more.hidden = true;
    this.el.empty.hidden = true;
    announce(`Now showing the thoughts of user ${id}.`);
    this.connect();
  }

  showConnection({ state, detail }) {
    const c = this.el.conn;
    c.dataset.state = state;
    c.textContent = detail ? `${STATE_TEXT[state] ?? state} — ${detail}` : STATE_TEXT[state] ?? state;
    const paused = state === 'paused';
    this.el.connToggle.textContent = paused ? 'Resume live updates' : 'Pause live updates';
  }

  updateCounter() {
    const n = codePoints(this.el.text.value);
    this.el.count.textContent = `${n} / ${TEXT_LIMIT}`;
    this.el.count.classList.toggle('over', n > TEXT_LIMIT);
  }

  // -- submitting ------------------------------------------------------------

  async submit() {
    const el = this.el;
    if (this.submitting) return; // Enter pressed again while the POST runs
    const text = el.text.value;
    if (!text.trim()) {
      showError(el.error, 'Write a thought first.');
      el.text.setAttribute('aria-invalid', 'true');
      el.text.focus();
      return;
    }
    showError(el.error, '');
    el.text.removeAttribute('aria-invalid');
    this.submitting = true;
    el.submit.disabled = true;
    el.form.setAttribute('aria-busy', 'true');
    try {
      const res = await postJson('/thoughts', { text, user_id: this.userId });
      el.text.value = '';
      this.updateCounter();
      this.merge({ ...res, text: res.text ?? text, agents_completed: 0 }, 'post');
      this.el.empty.hidden = true;
      announce('Thought submitted; the agents are working on it.');
    } catch (e) {
      const msg = e instanceof ApiError ? e.message : String(e);
      showError(el.error, `Not submitted: ${msg}`);
      if (e instanceof ApiError && (e.code === 'invalid_text' || e.code === 'text_too_long')) {
        el.text.setAttribute('aria-invalid', 'true');
      }
    } finally {
      this.submitting = false;
      el.submit.disabled = false;
      el.form.removeAttribute('aria-busy');
      el.text.focus();
    }
  }

  // -- loading ---------------------------------------------------------------

  async loadList({ more = false } = {}) {
    clearTimeout(this.fallbackTimer);
    const userId = this.userId;
    const url = withQuery(`/users/${encodeURIComponent(userId)}/thoughts`,
                          { limit: PAGE_SIZE, before: more ? this.next : null });
    this.el.more.disabled = true;
    try {
      const page = await getJson(url);
      if (userId !== this.userId) return null; // the user id changed meanwhile
      this.listLoaded = true;
      showError(this.el.listError, '');
      const ids = new Set();
      for (const t of page.thoughts ?? []) {
        this.merge(t, 'fetch');
        ids.add(t.thought_id);
      }
      // After a refresh of the first page "load more" starts again from its
      // cursor; thoughts already shown are merged, never duplicated.
      this.next = page.next ?? null;
      this.el.more.hidden = !this.next;
      this.el.empty.hidden = this.thoughts.size > 0;
      return ids;
    } catch (e) {
      if (userId !== this.userId) return null;
      showError(this.el.listError, `Cannot load the thoughts: ${e.message}`);
      return null;
    } finally {
      this.el.more.disabled = false;
    }
  }

  /** After `reset` (or Refresh): the list and every visible thought again. */
  async refetchAll() {
    const userId = this.userId;
    const fresh = (await this.loadList()) ?? new Set();
    // The first page is fresh now; the rest of what is shown is read one by one.
    const ids = [...this.thoughts.keys()].filter((id) => !fresh.has(id));
    const workers = Array.from({ length: Math.min(4, ids.length) }, async () => {
      while (ids.length) {
        const id = ids.shift();
        try {
          const t = await getJson(`/thoughts/${encodeURIComponent(id)}`);
          if (userId === this.userId) this.merge(t, 'fetch');
        } catch (e) {
          if (!(e instanceof ApiError && e.status === 404)) console.warn('distiller: refetch', id, e);
        }
      }
    });
    await Promise.all(workers);
  }

  /** Fills in a thought first seen through an event (text, results so far). */
  async hydrate(id) {
    const userId = this.userId;
    try {
      const t = await getJson(`/thoughts/${encodeURIComponent(id)}`);
      if (userId === this.userId) this.merge(t, 'fetch');
    } catch (e) {
      console.warn('distiller: cannot fetch thought', id, e);
    }
  }

  // -- events ----------------------------------------------------------------

  applyEvent(type, data, id) {
    if (!data || !data.thought_id) return;
    if (data.user_id && data.user_id.toLowerCase() !== this.userId) return;
    const entry = { seq: id, type, thought_id: data.thought_id };
    if (type === 'thought_agent_completed') entry.step = data.step;
    this.log.push(entry);
    const known = this.thoughts.has(data.thought_id);
    const m = this.model(data.thought_id, { created_at: data.created_at, user_id: data.user_id });
    switch (type) {
      case 'thought_created':
        this.merge({ thought_id: data.thought_id, user_id: data.user_id, text: data.text,
                     status: 'pending', created_at: data.created_at }, 'stream');
        break;
      case 'thought_processing':
        this.merge({ thought_id: data.thought_id, status: 'processing', attempts: data.attempt }, 'stream');
        break;
      case 'thought_agent_completed': {
        const s = stepByAgent(data.agent) ?? stepByResult(data.result_name)
          ?? STEPS.find((x) => x.step === data.step);
        if (s) this.setStep(m, s, data.result, 'stream');
        this.merge({ thought_id: data.thought_id, status: 'processing',
                     agents_completed: s ? s.step : data.step }, 'stream');
        break;
      }
      case 'thought_completed':
        this.merge({ ...(data.thought ?? {}), thought_id: data.thought_id, status: 'completed' }, 'stream');
        break;
      case 'thought_failed':
        this.merge({ thought_id: data.thought_id, status: 'failed', error: data.error,
                     attempts: data.attempts }, 'stream');
        break;
      default:
        break;
    }
    if (!known && type !== 'thought_created') this.hydrate(data.thought_id);
    this.el.empty.hidden = true;
  }

  // -- the model -------------------------------------------------------------

  /** The model of `id`, created (with its card) when new. */
  model(id, seed = {}) {
    let m = this.thoughts.get(id);
    if (m) return m;
    m = {
      thought_id: id,
      user_id: seed.user_id ?? this.userId,
      text: '',
      status: 'pending',
      agents_completed: 0,
      attempts: 0,
      error: null,
      created_at: seed.created_at ?? null,
      updated_at: null,
      completed_at: null,
      steps: new Map(), // step number → source ('stream', 'fetch', …)
      announced: false,
    };
    m.card = buildCard(m, seed.status === 'completed' || seed.status === 'failed');
    this.thoughts.set(id, m);
    this.insertCard(m);
    return m;
  }

  /** Merges a (partial) thought object into its model and updates the card. */
  merge(t, source) {
    if (!t || !t.thought_id) return;
    const isNew = !this.thoughts.has(t.thought_id);
    const m = this.model(t.thought_id, t);
    const before = m.status;
    if (t.text) m.text = t.text;
    if (t.user_id) m.user_id = t.user_id;
    if (t.created_at && !m.created_at) {
      m.created_at = t.created_at;
      this.insertCard(m); // its position depends on the creation time
    }
    if (t.updated_at && (!m.updated_at || time(t.updated_at) >= time(m.updated_at))) m.updated_at = t.updated_at;
    if (t.completed_at) m.completed_at = t.completed_at;
    if (t.status && rank(t.status) >= rank(m.status)) {
      // A terminal state is never replaced by a non-terminal one; between
      // the two terminal states the newer answer wins.
      m.status = t.status;
      if (t.status === 'failed' && t.error !== undefined) m.error = t.error;
      if (t.status === 'completed') m.error = null;
    }
    if (Number.isInteger(t.agents_completed)) m.agents_completed = Math.max(m.agents_completed, t.agents_completed);
    if (Number.isInteger(t.attempts)) m.attempts = Math.max(m.attempts, t.attempts);
    for (const s of STEPS) {
      if (t[s.result] !== null && t[s.result] !== undefined) this.setStep(m, s, t[s.result], source);
    }
    updateCard(m);
    // Only what finishes while the page watches is news: thoughts that come
    // in already final (the list) are not announced.
    if (!isNew && before !== m.status) this.announceOutcome(m);
  }

  setStep(m, s, result, source) {
    if (m.steps.has(s.step)) return; // shown once, whatever repeats it
    m.steps.set(s.step, source);
    m.agents_completed = Math.max(m.agents_completed, s.step);
    showStep(m.card, s, result, source);
    if (s.result === 'summary' && result && result.title) {
      m.title = String(result.title);
    }
  }

  announceOutcome(m) {
    if (m.announced || (m.status !== 'completed' && m.status !== 'failed')) return;
    m.announced = true;
    const name = m.title ? `“${m.title}”` : `“${excerpt(m.text, 40)}”`;
    announce(m.status === 'completed' ? `Thought ${name} completed.`
      : `Thought ${name} failed: ${m.error ?? 'unknown error'}.`);
  }

  // -- the card --------------------------------------------------------------

  insertCard(m) {
    const list = this.el.list;
    const li = m.card.li;
    const t = time(m.created_at);
    let before = null;
    if (t) {
      for (const other of list.children) {
        if (other === li) continue;
        const om = this.thoughts.get(other.dataset.thoughtId);
        if (om && time(om.created_at) < t) {
          before = other;
          break;
        }
      }
    } else {
      before = list.firstElementChild === li ? li.nextElementSibling : list.firstElementChild;
    }
    if (before) list.insertBefore(li, before);
    else list.append(li);
  }

  // -- test hooks ------------------------------------------------------------

  snapshot() {
    return {
      userId: this.userId,
      connection: this.stream?.status,
      lastEventId: this.stream?.lastEventId ?? null,
      stats: { ...(this.stream?.stats ?? {}) },
      events: this.log.slice(),
      thoughts: [...this.thoughts.values()].map((m) => ({
        thought_id: m.thought_id,
        status: m.status,
        steps: Object.fromEntries(m.steps),
      })),
    };
  }
}
