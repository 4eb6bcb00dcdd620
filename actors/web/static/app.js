// The entry point of the node's web page (GET /): starts the thoughts and
// documents panels and shows which node answers. Loaded as a module from
// /ui/app.js; no inline script anywhere, so the page runs under the node's
// Content-Security-Policy (script-src 'self').
//
// `window.distiller` is a small handle for tests and for trying things out
// in the console: dropStream() drops the thought stream as a network failure
// would (the page then reconnects by itself with the last event id),
// snapshot() returns what the page has applied.

import { apiToken, getJson, setApiToken } from './api.js';
import { byId } from './dom.js';
import { DocumentsPanel } from './documents.js';
import { ThoughtsPanel } from './thoughts.js';

async function showNode() {
  const info = byId('node-info');
  try {
    const health = await getJson('/health');
    info.textContent = `node ${health.node ?? '?'} · version ${health.version ?? '?'} · ${health.status ?? ''}`;
    info.dataset.status = health.status ?? '';
  } catch (e) {
    info.textContent = `the node does not answer (${e.message})`;
    info.dataset.status = 'down';
  }
}

/** Asks for an API token when the node answers 401, then reloads. */
function watchToken() {
  const form = byId('token-form');
  const input = byId('token-input');
  const error = byId('token-error');
  window.addEventListener('distiller:unauthorized', (e) => {
    if (!form.hidden) return;
    form.hidden = false;
    error.textContent = apiToken()
      ? `The kept token was refused: ${e.detail ?? ''}`
      : '';
    input.focus();
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    setApiToken(token);
    window.location.reload();
  });
  byId('token-forget').addEventListener('click', () => {
    setApiToken('');
    window.location.reload();
  });
}

function main() {
  watchToken();
  const thoughts = new ThoughtsPanel();
  const documents = new DocumentsPanel();
  thoughts.start();
  documents.start();
  showNode();

  window.distiller = Object.freeze({
    dropStream: () => thoughts.stream?.drop() ?? false,
    pauseStream: () => thoughts.stream?.pause('user'),
    resumeStream: () => thoughts.stream?.resume(),
    snapshot: () => thoughts.snapshot(),
    userId: () => thoughts.userId,
  });
  document.documentElement.dataset.ready = 'true';
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', main, { once: true });
} else {
  main();
}
