#!/usr/bin/env node
// Real-browser test of the node's web page (GET /), run by ctest as
// `browser_ui` (label e2e):
//
//   node tests/browser/ui_test.mjs --distiller build/distiller \
//        --artifacts build/test-artifacts [--only thought_live,resume]
//
// It starts three whole nodes (`distiller up --port 0`, each with its own
// temporary data directory, embedded Kafka and private PostgreSQL): one with
// the built-in agents, one whose agents call a fake OpenAI-compatible
// chat-completions server run by this script, which answers each call after
// a delay so a thought takes seconds and its stream can be dropped midway,
// and one that requires API tokens.
// Debian's chromium, driven by playwright-core, then checks what a person
// would:
//   thought_live     submit a thought (Enter), see its five steps and
//                    "completed" arrive live, rendered
//   document_upload  upload a PDF (file input) and a text file (dropped on
//                    the drop zone), see their progress reach completed and
//                    the job list follow
//   query            ask a question, see the answer and its sources
//   resume           on the slow node: drop the stream after step 2 (the
//                    page's test hook), keep it down while step 3 finishes,
//                    then see the page reconnect with its last event id and
//                    show every step exactly once and "completed"
//   accessibility    every control labelled, the drop zone opens the file
//                    picker from the keyboard, no horizontal scrolling at
//                    360 px
//   api_token        on a third node that requires API tokens: the page
//                    asks for one after the 401, keeps it, and then streams
//                    (EventSource with ?access_token=) and submits thoughts
// No fixed sleeps: every wait is for a condition, with a deadline. Any
// Content-Security-Policy violation or uncaught page error fails the run.
// A screenshot per scenario goes to the artifacts directory, with the
// nodes' logs. Exit code 0 only when every scenario passed; the nodes
// (SIGINT, then SIGKILL) and chromium are always stopped and the temporary
// directories removed. Helpers: lib/nodes.mjs (starting and stopping
// nodes), lib/fake_chat.mjs (the fake model), lib/wait.mjs, lib/pdf.mjs.

import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { startChatServer } from './lib/fake_chat.mjs';
import { startNode, stopNode } from './lib/nodes.mjs';
import { makePdf } from './lib/pdf.mjs';
import { Fatal, check, waitFor } from './lib/wait.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');

// -- options -------------------------------------------------------------------

function parseArgs(argv) {
  const opts = {
    distiller: null,
    artifacts: path.join(REPO, 'build', 'test-artifacts'),
    only: null,
    chromium: '/usr/bin/chromium',
    chatDelayMs: 700,
    deadlineS: 420,
    repo: REPO,
  };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--distiller') opts.distiller = next();
    else if (a === '--artifacts') opts.artifacts = next();
    else if (a === '--only') opts.only = new Set(next().split(','));
    else if (a === '--chromium') opts.chromium = next();
    else if (a === '--chat-delay-ms') opts.chatDelayMs = Number(next());
    else if (a === '--deadline') opts.deadlineS = Number(next());
    else if (a === '--help' || a === '-h') {
      console.log('usage: ui_test.mjs --distiller PATH [--artifacts DIR] [--only a,b] [--chromium PATH]');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!opts.distiller) throw new Error('--distiller PATH is required');
  opts.distiller = path.resolve(opts.distiller);
  opts.artifacts = path.resolve(opts.artifacts, 'browser');
  return opts;
}

// -- test files -------------------------------------------------------------------

const PDF_LINES = [
  'Starfish open mussels by pulling the two shells apart with their tube feet.',
  'Once the shell gapes, the starfish pushes its stomach inside and digests the mussel.',
  'A single starfish can eat several mussels in a day.',
];
const TEXT_FILE = 'Volcanoes on Iceland erupt along the rift between two plates.\n\n'
  + 'Lava from fissure eruptions spreads wide and thin across the plains.\n';

// -- the page --------------------------------------------------------------------

async function openPage(context, node, problems) {
  const page = await context.newPage();
  page.on('console', (msg) => {
    const text = msg.text();
    if (/Content[- ]Security[- ]Policy|Refused to (load|execute|apply|connect|evaluate)/i.test(text)) {
      problems.push(`CSP (${node.name}): ${text}`);
    }
  });
  page.on('pageerror', (err) => problems.push(`page error (${node.name}): ${err.message}`));
  // Listening from the start turns file-chooser interception on before any
  // key press can open one (enabling it lazily races with the press).
  page.choosers = [];
  page.on('filechooser', (fc) => page.choosers.push(fc));
  // Installed before any of the page's own code runs, on every load.
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  await page.goto(`${node.url}/`, { waitUntil: 'domcontentloaded' });
  await page.waitForFunction(() => document.documentElement.dataset.ready === 'true', null, { timeout: 15000 });
  return page;
}

/** Waits until the thought stream is live (the page shows "Live"). */
async function streamLive(page, timeout = 30000) {
  await page.waitForSelector('#conn-state[data-state="live"]', { timeout });
}

async function cspViolations(page) {
  return page.evaluate(() => window.__csp ?? []);
}

async function submitThought(page, text) {
  await page.fill('#thought-text', text);
  await page.focus('#thought-text');
  await page.keyboard.press('Enter'); // Enter submits
  const id = await waitFor('the submitted thought to appear', async () =>
    page.evaluate((t) => {
      for (const li of document.querySelectorAll('#thought-list li.thought')) {
        if (li.querySelector('.thought-text')?.textContent === t) return li.dataset.thoughtId;
      }
      return null;
    }, text), { timeoutMs: 15000 });
  return id;
}

const card = (id) => `#thought-list li.thought[data-thought-id="${id}"]`;

async function stepStates(page, id) {
  return page.evaluate((sel) => {
    const li = document.querySelector(sel);
    if (!li) return null;
    return {
      status: li.dataset.status,
      outcome: li.querySelector('.outcome')?.textContent ?? '',
      steps: [...li.querySelectorAll('.step')].map((s) => ({
        step: Number(s.dataset.step), state: s.dataset.state, source: s.dataset.source ?? null,
        text: s.querySelector('.step-body')?.textContent ?? '',
      })),
    };
  }, card(id));
}

/** The applied events of one thought, from the page's snapshot. */
async function thoughtEvents(page, id) {
  const snap = await page.evaluate(() => window.distiller.snapshot());
  return { snap, events: snap.events.filter((e) => e.thought_id === id) };
}

function checkSteps(states, label) {
  check(states, `${label}: the thought's card is gone`);
  const done = states.steps.filter((s) => s.state === 'done');
  check(done.length === 5, `${label}: ${done.length} of 5 steps shown as done`);
  for (let k = 1; k <= 5; k++) {
    const n = states.steps.filter((s) => s.step === k).length;
    check(n === 1, `${label}: step ${k} appears ${n} times`);
  }
  check(states.status === 'completed', `${label}: status is ${states.status}`);
  check(/completed/.test(states.outcome), `${label}: outcome reads "${states.outcome}"`);
}

function checkEventLog(events, label) {
  const seqs = events.map((e) => e.seq).filter((s) => s !== null);
  for (let i = 1; i < seqs.length; i++) {
    check(seqs[i] > seqs[i - 1], `${label}: event ids not increasing (${seqs.join(',')}) — a duplicate or reordering`);
  }
  const steps = events.filter((e) => e.type === 'thought_agent_completed').map((e) => e.step);
  check(JSON.stringify(steps) === '[1,2,3,4,5]', `${label}: the stream delivered steps [${steps}] instead of [1,2,3,4,5]`);
  const completed = events.filter((e) => e.type === 'thought_completed').length;
  check(completed === 1, `${label}: ${completed} thought_completed events`);
}

// -- scenarios ---------------------------------------------------------------------

async function thoughtLive(ctx) {
  const page = ctx.pageMain;
  await streamLive(page);
  const text = `Call the dentist before Friday to move my appointment, I'm worried about the cost (${Date.now()}).`;
  const id = await submitThought(page, text);
  const states = await waitFor('five steps and "completed"', async () => {
    const s = await stepStates(page, id);
    return s && s.status === 'completed' && s.steps.every((x) => x.state === 'done') ? s : null;
  }, { timeoutMs: 60000 });
  checkSteps(states, 'thought_live');
  for (const s of states.steps) {
    check(s.source === 'stream', `thought_live: step ${s.step} came from ${s.source}, not the live stream`);
    check(s.text.trim().length > 0, `thought_live: step ${s.step} shows nothing`);
  }
  check(/Category/.test(states.steps[0].text), 'thought_live: the classification shows no category');
  check(/Keywords/.test(states.steps[1].text) && /Sentiment/.test(states.steps[1].text),
        'thought_live: the analysis shows no keywords/sentiment');
  check(/Importance/.test(states.steps[2].text), 'thought_live: the value step shows no importance');
  const { events } = await thoughtEvents(page, id);
  checkEventLog(events, 'thought_live');
  await waitFor('the completion to be announced', () =>
    page.evaluate(() => /completed/.test(document.getElementById('announcer').textContent)), { timeoutMs: 5000 });
  // The user's list (GET /users/{id}/thoughts) has it after a reload too.
  await page.reload({ waitUntil: 'domcontentloaded' });
  await page.waitForSelector(`${card(id)}[data-status="completed"]`, { timeout: 15000 });
  await streamLive(page);
  // A finished thought from the list starts folded; the disclosure opens
  // from the keyboard (and the screenshot shows the rendered results).
  await page.focus(`${card(id)} details.steps-box > summary`);
  await page.keyboard.press('Enter');
  await page.waitForSelector(`${card(id)} details.steps-box[open]`, { timeout: 5000 });
  const after = await stepStates(page, id);
  check(after.steps.filter((s) => s.state === 'done').length === 5,
        'thought_live: after a reload the list does not show the five results');
  return `thought ${id.slice(0, 8)}: 5 steps live, completed, listed after a reload`;
}

async function documentUpload(ctx) {
  const page = ctx.pageMain;
  const pdf = makePdf(PDF_LINES);
  // The PDF through the drop zone's button, from the keyboard: it opens the
  // file picker, which gets the file.
  await page.focus('#dropzone');
  page.choosers.length = 0;
  await page.keyboard.press('Enter');
  const fc = await waitFor('the file picker to open', () => page.choosers.shift(), { timeoutMs: 5000 });
  check(fc.isMultiple(), 'document_upload: the file picker does not take several files');
  await fc.setFiles({ name: 'starfish.pdf', mimeType: 'application/pdf', buffer: pdf });
  // A text file dropped on the drop zone.
  const dt = await page.evaluateHandle((text) => {
    const d = new DataTransfer();
    d.items.add(new File([text], 'iceland.txt', { type: 'text/plain' }));
    return d;
  }, TEXT_FILE);
  await page.dispatchEvent('#dropzone', 'dragenter', { dataTransfer: dt });
  await page.dispatchEvent('#dropzone', 'dragover', { dataTransfer: dt });
  await page.dispatchEvent('#dropzone', 'drop', { dataTransfer: dt });

  const seen = {};
  await waitFor('both uploads to complete', async () => {
    const ups = await page.evaluate(() => [...document.querySelectorAll('#uploads li.upload')].map((li) => ({
      name: li.querySelector('.upload-name').textContent, status: li.dataset.status,
      progress: li.querySelector('progress').value, detail: li.querySelector('.upload-detail').textContent,
      job: li.dataset.jobId ?? null,
    })));
    for (const u of ups) {
      (seen[u.name] ??= new Set()).add(u.status);
      if (u.status === 'failed') throw new Fatal(`upload ${u.name} failed: ${u.detail}`);
    }
    const done = ups.filter((u) => u.status === 'completed' && u.progress === 100);
    return done.length >= 2 && ['starfish.pdf', 'iceland.txt'].every((n) => done.some((u) => u.name === n));
  }, { timeoutMs: 90000, intervalMs: 25 });
  // The job list follows without a reload.
  await waitFor('the job list to show both jobs completed', () => page.evaluate(() => {
    const rows = [...document.querySelectorAll('#jobs-body tr')];
    const st = (n) => rows.find((r) => r.querySelector('.job-file')?.textContent === n)?.dataset.status;
    return st('starfish.pdf') === 'completed' && st('iceland.txt') === 'completed';
  }), { timeoutMs: 20000 });
  const states = [...(seen['starfish.pdf'] ?? [])].join('→');
  return `starfish.pdf and iceland.txt completed (pdf seen as ${states})`;
}

async function query(ctx) {
  const page = ctx.pageMain;
  await page.fill('#question', 'How do starfish open mussels?');
  let sources = [];
  // The index may trail the job's completion by a moment: ask again until
  // the uploaded document is among the sources.
  await waitFor('the answer to cite starfish.pdf', async () => {
    await page.focus('#question');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#answer:not([hidden])', { timeout: 10000 });
    await page.waitForFunction(() => !document.getElementById('query-submit').disabled, null, { timeout: 10000 });
    sources = await page.evaluate(() => [...document.querySelectorAll('#sources li.source')].map((li) => ({
      file: li.querySelector('.source-file').textContent,
      score: li.querySelector('.source-score').textContent,
      text: li.querySelector('.source-text').textContent,
    })));
    return sources.some((s) => s.file === 'starfish.pdf');
  }, { timeoutMs: 30000, intervalMs: 500 });
  const top = sources.find((s) => s.file === 'starfish.pdf');
  check(/score \d/.test(top.score), `query: the source shows no score ("${top.score}")`);
  check(/mussel/i.test(top.text), `query: the source text does not mention mussels: ${top.text}`);
  const answer = await page.textContent('#answer-text');
  check(answer && answer.trim().length > 0, 'query: empty answer');
  return `${sources.length} source(s), first ${sources[0].file}`;
}

async function resume(ctx) {
  const page = ctx.pageSlow;
  await streamLive(page);
  const chat = ctx.chat.state;
  const base = chat.requests.length;
  const text = `Plan the garden party for Saturday and buy the drinks (${Date.now()}).`;
  const id = await submitThought(page, text);
  await waitFor('step 2 to arrive', async () => {
    const s = await stepStates(page, id);
    return s && s.steps[1].state === 'done';
  }, { timeoutMs: 60000, intervalMs: 20 });
  const before = await page.evaluate(() => window.distiller.snapshot());
  check(before.connection.state === 'live', `resume: stream not live before the drop (${before.connection.state})`);

  // Keep the stream down until step 3 is done on the node, so the page can
  // only get it by resuming from its last event id.
  let blocked = 0;
  const block = (route) => {
    blocked += 1;
    return route.abort('connectionreset');
  };
  await page.route('**/thoughts/stream/**', block);
  const dropped = await page.evaluate(() => window.distiller.dropStream());
  check(dropped, 'resume: dropStream() found no open stream');
  await page.waitForSelector('#conn-state[data-state="reconnecting"]', { timeout: 5000 });
  await waitFor('the node to ask for the plan (step 3 done)', () =>
    chat.requests.slice(base).some((r) => r.agent === 'plan'), { timeoutMs: 30000, intervalMs: 20 });
  await waitFor('a reconnect attempt to be refused', () => blocked > 0, { timeoutMs: 20000 });
  await page.unroute('**/thoughts/stream/**', block);

  const states = await waitFor('the thought to complete after the resume', async () => {
    const s = await stepStates(page, id);
    return s && s.status === 'completed' ? s : null;
  }, { timeoutMs: 60000 });
  await streamLive(page);
  checkSteps(states, 'resume');
  for (const s of states.steps) {
    check(s.source === 'stream', `resume: step ${s.step} came from ${s.source}, not the stream`);
  }
  const { snap, events } = await thoughtEvents(page, id);
  checkEventLog(events, 'resume');
  check(snap.stats.reconnects >= 1, 'resume: the page never reconnected');
  check(snap.stats.resets === 0, `resume: the node sent reset (${snap.stats.resets}) instead of replaying`);
  const agents = chat.requests.slice(base).map((r) => r.agent);
  check(agents.filter((a) => a === null).length === 0, `resume: chat requests for no known agent: ${agents}`);
  return `dropped after step 2, ${blocked} refused attempt(s), resumed from id ${before.lastEventId}: `
    + `replayed ${snap.stats.replayed}, duplicates ignored ${snap.stats.duplicates}, reconnects ${snap.stats.reconnects}`;
}

async function accessibility(ctx) {
  const page = ctx.pageMain;
  const unlabelled = await page.evaluate(() => {
    const bad = [];
    for (const el of document.querySelectorAll('input, select, textarea, button')) {
      if (el.type === 'hidden') continue;
      const named = (el.labels && el.labels.length > 0) || el.getAttribute('aria-label')
        || el.getAttribute('aria-labelledby') || (el.tagName === 'BUTTON' && el.textContent.trim());
      if (!named) bad.push(el.id || el.outerHTML.slice(0, 60));
    }
    return bad;
  });
  check(unlabelled.length === 0, `accessibility: controls without a label: ${unlabelled.join(', ')}`);
  const live = await page.evaluate(() => document.querySelectorAll('[aria-live="polite"]').length);
  check(live >= 1, 'accessibility: no polite live region');

  // The drop zone is a button (document_upload opens the file picker with
  // it from the keyboard); the plain file input is reachable too.
  const dz = await page.evaluate(() => {
    const d = document.getElementById('dropzone');
    return d.tagName === 'BUTTON' && d.tabIndex >= 0 && !d.disabled;
  });
  check(dz, 'accessibility: the drop zone is not a focusable button');

  // Tab reaches the thought form, and focus is visible there.
  await page.focus('#user-id');
  let reached = false;
  for (let i = 0; i < 6 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement?.id === 'thought-text');
  }
  check(reached, 'accessibility: Tab from the user id does not reach the thought text');

  await page.setViewportSize({ width: 360, height: 800 });
  const overflow = await waitFor('the layout to settle at 360 px', () => page.evaluate(() => {
    const w = document.documentElement.clientWidth;
    return document.documentElement.scrollWidth <= w + 1 ? { w } : null;
  }), { timeoutMs: 5000 });
  await page.screenshot({ path: path.join(ctx.opts.artifacts, 'accessibility-360px.png'), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
  return `all controls labelled, Tab order, no overflow at ${overflow.w} px`;
}

async function apiToken(ctx) {
  const page = ctx.page_secure;
  // Every API call of the page was refused: it asks for a token.
  await page.waitForSelector('#token-form:not([hidden])', { timeout: 15000 });
  const state = await page.getAttribute('#conn-state', 'data-state');
  check(state !== 'live', 'api_token: the stream is live without a token');
  await page.fill('#token-input', ctx.secureToken);
  await Promise.all([
    page.waitForNavigation({ waitUntil: 'domcontentloaded' }),
    page.click('#token-form button[type="submit"]'),
  ]);
  await page.waitForFunction(() => document.documentElement.dataset.ready === 'true', null, { timeout: 15000 });
  await streamLive(page);
  check(await page.isHidden('#token-form'), 'api_token: the token form stays after a good token');
  const id = await submitThought(page, `A thought behind a token (${Date.now()}).`);
  await page.waitForSelector(`${card(id)}[data-status="completed"]`, { timeout: 60000 });
  const kept = await page.evaluate(() => localStorage.getItem('distiller.apiToken'));
  check(kept === ctx.secureToken, 'api_token: the token is not kept in localStorage');
  return `401 → token form → stream live and thought ${id.slice(0, 8)} completed`;
}

const SCENARIOS = [
  { name: 'thought_live', node: 'main', run: thoughtLive },
  { name: 'document_upload', node: 'main', run: documentUpload },
  { name: 'query', node: 'main', run: query, after: 'document_upload' },
  { name: 'resume', node: 'slow', run: resume },
  { name: 'accessibility', node: 'main', run: accessibility },
  { name: 'api_token', node: 'secure', run: apiToken },
];

// -- main --------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv);
  await fsp.mkdir(opts.artifacts, { recursive: true });
  const wanted = SCENARIOS.filter((s) => !opts.only || opts.only.has(s.name));
  const needs = new Set(wanted.map((s) => s.node));
  const ctx = { opts, nodes: [], browser: null, profile: null, chat: null };
  const results = [];
  const problems = [];
  let interrupted = false;

  const cleanup = async () => {
    if (ctx.browser) await ctx.browser.close().catch(() => {});
    await Promise.all(ctx.nodes.map((n) => stopNode(n)));
    if (ctx.chat) {
      ctx.chat.server.closeAllConnections?.();
      ctx.chat.server.close();
      // What the node asked the fake model, for a failing run's post-mortem.
      await fsp.writeFile(path.join(opts.artifacts, 'chat-requests.json'),
                          JSON.stringify(ctx.chat.state.requests, null, 1)).catch(() => {});
    }
    if (ctx.profile) await fsp.rm(ctx.profile, { recursive: true, force: true }).catch(() => {});
  };
  // ctest's timeout (or a Ctrl-C) must not leave nodes behind.
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      if (interrupted) return;
      interrupted = true;
      console.error(`browser_ui: ${sig}; stopping the nodes`);
      cleanup().finally(() => process.exit(2));
    });
  }
  const overall = setTimeout(() => {
    console.error(`browser_ui: the whole run exceeded ${opts.deadlineS} s; stopping`);
    cleanup().finally(() => process.exit(3));
  }, opts.deadlineS * 1000);

  try {
    const { chromium } = await import('playwright-core').catch(() => {
      throw new Error(`playwright-core is not installed: run npm ci --prefix ${HERE} (scripts/deps does)`);
    });
    check(fs.existsSync(opts.distiller), `no distiller binary at ${opts.distiller}`);
    check(fs.existsSync(opts.chromium), `no chromium at ${opts.chromium} (apt-get install chromium; scripts/deps does)`);

    const t0 = Date.now();
    if (needs.has('slow')) ctx.chat = await startChatServer(opts.chatDelayMs);
    const starting = {};
    if (needs.has('main')) starting.main = await startNode(opts, 'main', []);
    if (needs.has('slow')) {
      starting.slow = await startNode(opts, 'slow', [
        '--set', 'agents.backend=chat',
        '--set', `agents.chat_url=${ctx.chat.url}`,
        '--set', 'agents.chat_model=fake',
      ]);
    }
    if (needs.has('secure')) {
      ctx.secureToken = `dst_ui-${crypto.randomBytes(24).toString('base64url')}`;
      const hash = crypto.createHash('sha256').update(ctx.secureToken).digest('hex');
      starting.secure = await startNode(opts, 'secure', [
        '--set', 'auth.required=true',
        '--set', `auth.tokens=sha256:${hash}:admin`,
      ]);
    }
    ctx.nodes = Object.values(starting);
    const ready = {};
    for (const [k, n] of Object.entries(starting)) {
      try {
        ready[k] = await n.ready;
      } catch (e) {
        ready[k] = null;
        ready[`${k}Error`] = e;
      }
    }
    console.log(`browser_ui: nodes started in ${((Date.now() - t0) / 1000).toFixed(1)} s`
      + Object.entries(starting).map(([k, n]) => ` ${k}=${n.url ?? 'failed'}`).join(''));

    ctx.profile = await fsp.mkdtemp(path.join(os.tmpdir(), 'distiller-ui-chromium-'));
    ctx.browser = await chromium.launchPersistentContext(ctx.profile, {
      executablePath: opts.chromium,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
             '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 900 },
      acceptDownloads: false,
    });
    ctx.browser.setDefaultTimeout(15000);

    for (const s of wanted) {
      const t = Date.now();
      let status = 'ok';
      let detail = '';
      try {
        if (s.after && !results.some((r) => r.name === s.after && r.status === 'ok')) {
          throw new Error(`needs ${s.after}, which did not pass`);
        }
        const node = ready[s.node];
        if (!node) throw ready[`${s.node}Error`] ?? new Error(`node ${s.node} did not start`);
        const key = { main: 'pageMain', slow: 'pageSlow' }[s.node] ?? `page_${s.node}`;
        if (!ctx[key]) ctx[key] = await openPage(ctx.browser, node, problems);
        const before = problems.length;
        detail = await s.run(ctx);
        const csp = await cspViolations(ctx[key]);
        if (csp.length) throw new Error(`Content-Security-Policy violations: ${csp.join('; ')}`);
        if (problems.length > before) throw new Error(problems.slice(before).join('; '));
      } catch (e) {
        status = 'FAILED';
        detail = e.message;
      }
      const page = ctx[{ main: 'pageMain', slow: 'pageSlow' }[s.node] ?? `page_${s.node}`];
      if (page) {
        await page.screenshot({ path: path.join(opts.artifacts, `${s.name}.png`), fullPage: true })
          .catch((e) => { detail += ` (no screenshot: ${e.message})`; });
      }
      const secs = ((Date.now() - t) / 1000).toFixed(1);
      results.push({ name: s.name, status });
      console.log(`browser_ui: ${s.name.padEnd(16)} ${status.padEnd(6)} ${secs.padStart(5)} s  ${detail}`);
    }
  } catch (e) {
    results.push({ name: 'setup', status: 'FAILED' });
    console.log(`browser_ui: setup            FAILED ${e.stack ?? e.message}`);
  } finally {
    clearTimeout(overall);
    await cleanup();
  }
  for (const n of ctx.nodes) {
    if (n.exited && n.exited.code !== 0 && n.exited.signal !== 'SIGINT') {
      console.log(`browser_ui: node ${n.name} exited with ${JSON.stringify(n.exited)} (log: ${n.logPath})`);
    }
  }
  const passed = results.filter((r) => r.status === 'ok').length;
  const failed = results.length - passed;
  console.log(`browser_ui: artifacts in ${opts.artifacts}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

main();
