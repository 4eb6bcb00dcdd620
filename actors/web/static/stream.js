// A Server-Sent Events subscription that survives dropped connections
// without gaps or duplicates.
//
// Every pipeline event carries `id: <sequence number>`. The stream remembers
// the highest id it delivered; after a drop it opens a new EventSource with
// `?last_event_id=<id>`, the server replays what was missed and then sends
// `ready`. Anything at or below the remembered id is dropped as a duplicate,
// so each event reaches `onEvent` exactly once. `reset` (the id is older than
// what the server can replay, or its sequence restarted) is passed to
// `onReset`, whose job is to refetch the state.
//
//   connecting ──open/ready──▶ live ──error/closing──▶ reconnecting ──▶ live
//        │                      │                          │
//        └────── pause() / offline / 4xx answer ──────▶ paused ──resume()──▶ connecting
//
// Reconnects are ours, not the browser's: on an error the EventSource is
// closed and a new one opened after a backoff (0.25 s, 0.5 s, 1 s … 15 s,
// with jitter). When the node refused the stream (an HTTP error, which
// EventSource does not expose), one plain fetch of the same URL reads the
// status: 503 waits the Retry-After seconds, other 4xx answers pause.

import { authHeaders, retryAfterSeconds, withToken } from './api.js';

const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 15000;

function parseId(text) {
  if (text === undefined || text === null || text === '') return null;
  const n = Number(text);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

export class ResumableStream {
  /**
   * @param {object} opts
   * @param {(lastId: number|null) => string} opts.urlFor  the stream URL
   * @param {string[]} opts.eventTypes  pipeline event names to deliver
   * @param {(type, data, id) => void} opts.onEvent  each new pipeline event
   * @param {(data, id) => void} [opts.onReady]  the stream is live
   * @param {(data) => void} [opts.onReset]  refetch the state
   * @param {(status) => void} [opts.onState]  {state, detail, lastEventId}
   */
  constructor(opts) {
    this.urlFor = opts.urlFor;
    this.eventTypes = opts.eventTypes;
    this.onEvent = opts.onEvent;
    this.onReady = opts.onReady ?? (() => {});
    this.onReset = opts.onReset ?? (() => {});
    this.onState = opts.onState ?? (() => {});
    this.stats = { connects: 0, reconnects: 0, duplicates: 0, replayed: 0, resets: 0 };
    this.es = null;
    this.lastId = null;
    this.attempt = 0;
    this.timer = null;
    this.probe = null;
    this.pausedBy = null; // null | 'user' | 'offline' | 'refused'
    this.stopped = false;
    this.closingReason = null;
    this.status = { state: 'connecting', detail: '' };
    this.onOffline = () => {
      if (!this.paused) this.pause('offline'); // a user's pause stays one
    };
    this.onOnline = () => {
      if (this.pausedBy === 'offline') this.resume();
    };
    window.addEventListener('offline', this.onOffline);
    window.addEventListener('online', this.onOnline);
  }

  get lastEventId() {
    return this.lastId;
  }

  start() {
    this.stopped = false;
    this.pausedBy = null;
    this.open();
  }

  /** Closes the stream for good (the user id changed). */
  stop() {
    this.stopped = true;
    this.teardown();
    window.removeEventListener('offline', this.onOffline);
    window.removeEventListener('online', this.onOnline);
  }

  /** Stops receiving until `resume()`; `why` is 'user', 'offline' or 'refused'. */
  pause(why = 'user', detail = '') {
    if (this.stopped) return;
    this.pausedBy = why;
    this.teardown();
    const text = detail || (why === 'offline' ? 'the browser is offline'
      : why === 'user' ? 'live updates paused' : 'the node refused the stream');
    this.setState('paused', text);
  }

  resume() {
    if (this.stopped) return;
    this.pausedBy = null;
    this.attempt = 0;
    this.open();
  }

  get paused() {
    return this.pausedBy !== null;
  }

  /**
   * Drops the connection as a network failure would, so the normal
   * reconnect path runs (for tests and for trying it out). False when there
   * is no open stream.
   */
  drop() {
    if (!this.es) return false;
    this.handleError(this.es, true);
    return true;
  }

  // -- internals -------------------------------------------------------------

  setState(state, detail = '') {
    this.status = { state, detail, lastEventId: this.lastId };
    this.onState(this.status);
  }

  teardown() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.probe) {
      this.probe.abort();
      this.probe = null;
    }
    if (this.es) {
      this.es.close();
      this.es = null;
    }
  }

  open() {
    this.teardown();
    if (this.stopped || this.paused) return;
    const url = this.urlFor(this.lastId);
    const es = new EventSource(withToken(url));
    this.es = es;
    this.closingReason = null;
    this.stats.connects += 1;
    if (this.stats.connects > 1) this.stats.reconnects += 1;
    if (this.status.state !== 'reconnecting') this.setState('connecting', 'opening the stream');
    for (const type of this.eventTypes) {
      es.addEventListener(type, (e) => this.handlePipeline(es, type, e));
    }
    es.addEventListener('ready', (e) => this.handleReady(es, e));
    es.addEventListener('reset', (e) => this.handleReset(es, e));
    es.addEventListener('closing', (e) => this.handleClosing(es, e));
    es.addEventListener('error', () => this.handleError(es, false));
  }

  parse(e) {
    try {
      return JSON.parse(e.data);
    } catch {
      console.warn('distiller: an event whose data is not JSON', e.type, e.data);
      return null;
    }
  }

  handlePipeline(es, type, e) {
    if (es !== this.es) return;
    const data = this.parse(e);
    if (!data) return;
    let id = parseId(e.lastEventId);
    if (id === null && Number.isSafeInteger(data.seq)) id = data.seq;
    if (id !== null && this.lastId !== null && id <= this.lastId) {
      this.stats.duplicates += 1;
      return;
    }
    if (id !== null) this.lastId = id;
    this.onEvent(type, data, id);
  }

  handleReady(es, e) {
    if (es !== this.es) return;
    const data = this.parse(e) ?? {};
    const id = parseId(e.lastEventId) ?? parseId(data.last_event_id);
    if (id !== null && this.lastId !== null && id < this.lastId) {
      // The node's sequence is behind what we saw (it lost its history):
      // what we hold may be stale, so refetch like on `reset`.
      this.stats.resets += 1;
      this.lastId = id;
      this.onReset({ reason: 'sequence_restarted', detail: 'the node restarted its event sequence' });
    } else if (id !== null) {
      this.lastId = Math.max(this.lastId ?? id, id);
    }
    if (Number.isInteger(data.replayed)) this.stats.replayed += data.replayed;
    this.attempt = 0;
    this.setState('live', data.node ? `via ${data.node}` : '');
    this.onReady(data, id);
  }

  handleReset(es, e) {
    if (es !== this.es) return;
    const data = this.parse(e) ?? {};
    this.stats.resets += 1;
    // Whatever comes next starts a new history; `ready` tells its position.
    this.lastId = null;
    this.onReset(data);
  }

  handleClosing(es, e) {
    if (es !== this.es) return;
    const data = this.parse(e) ?? {};
    this.closingReason = data.reason ?? 'closing';
    this.setState('reconnecting', data.reason === 'slow_client'
      ? 'the node dropped this stream (too slow); catching up'
      : 'the node is stopping; will reconnect');
  }

  handleError(es, simulated) {
    if (es !== this.es) return;
    // CLOSED: the node refused the stream (HTTP error or not an event
    // stream); CONNECTING: the connection dropped and the browser would
    // retry. Either way the retry is ours, with the last id in the URL.
    const refused = !simulated && es.readyState === EventSource.CLOSED;
    es.close();
    this.es = null;
    if (this.stopped || this.paused) return;
    if (refused) {
      this.probeThenRetry();
    } else {
      const soon = this.closingReason === 'slow_client' ? 0 : null;
      this.scheduleRetry(soon);
    }
  }

  scheduleRetry(delayMs = null, detail = '') {
    clearTimeout(this.timer);
    this.attempt += 1;
    let delay = delayMs;
    if (delay === null) {
      const base = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (this.attempt - 1));
      delay = Math.round(base * (0.8 + Math.random() * 0.4));
    }
    const secs = delay >= 1000 ? `${Math.round(delay / 1000)} s` : 'a moment';
    this.setState('reconnecting', detail || `connection lost; retrying in ${secs} (attempt ${this.attempt})`);
    this.timer = setTimeout(() => this.open(), delay);
  }

  async probeThenRetry() {
    const ctl = new AbortController();
    this.probe = ctl;
    const timeout = setTimeout(() => ctl.abort(), 10000);
    let res = null;
    try {
      res = await fetch(this.urlFor(this.lastId), {
        headers: { Accept: 'text/event-stream', ...authHeaders() },
        cache: 'no-store',
        signal: ctl.signal,
      });
    } catch {
      res = null; // network failure or our timeout: retry with backoff
    } finally {
      clearTimeout(timeout);
    }
    if (this.probe !== ctl) return; // torn down meanwhile
    this.probe = null;
    if (!res) {
      this.scheduleRetry();
      return;
    }
    if (res.ok) {
      ctl.abort(); // it would have worked: reopen as a real stream
      this.scheduleRetry(0, 'reconnecting');
      return;
    }
    let body = null;
    try {
      body = await res.json();
    } catch {
      // not JSON
    }
    const detail = body?.detail ?? `the node answered ${res.status}`;
    if (res.status === 503 || res.status === 429 || res.status >= 500) {
      const wait = retryAfterSeconds(res.headers.get('Retry-After'));
      if (wait !== null) {
        this.scheduleRetry(wait * 1000, `the node is busy (${detail}); retrying in ${Math.ceil(wait)} s`);
      } else {
        this.scheduleRetry(null);
      }
      return;
    }
    if (res.status === 401) {
      window.dispatchEvent(new CustomEvent('distiller:unauthorized', { detail }));
    }
    // 400/401/403/404/422: retrying the same request cannot help.
    this.pause('refused', `the node refused the stream: ${detail}`);
  }
}
