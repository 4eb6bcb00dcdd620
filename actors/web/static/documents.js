// The documents panel: uploads (file input and a drop zone that is also a
// button), one card per upload with a live progress bar fed by the job's
// event stream, the recent-jobs table (refreshed as jobs change) and the
// question form with its answer and sources.

import { ApiError, getJson, postJson, uploadFile, withQuery, withToken } from './api.js';
import { announce, byId, h, num, replaceChildren, showError, timeEl } from './dom.js';

const SUPPORTED = ['.txt', '.md', '.html', '.htm', '.pdf'];
const JOB_STATES = ['pending', 'processing', 'chunking', 'embedding', 'completed', 'failed'];
const FINAL = new Set(['completed', 'failed']);
const PAGE = 20;
const MAX_ROWS = 100;
const POLL_MS = 15000;

const extensionOf = (name) => {
  const i = name.lastIndexOf('.');
  return i > 0 ? name.slice(i).toLowerCase() : '';
};

function formatBytes(n) {
  if (!Number.isFinite(n)) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function chunkText(job) {
  if (!job || !Number.isInteger(job.total_chunks) || job.total_chunks === 0) return '';
  return `${job.processed_chunks ?? 0} of ${job.total_chunks} chunks`;
}

export class DocumentsPanel {
  constructor() {
    this.el = {
      form: byId('upload-form'),
      drop: byId('dropzone'),
      input: byId('file-input'),
      uploadError: byId('upload-error'),
      uploads: byId('uploads'),
      uploadsEmpty: byId('uploads-empty'),
      jobsBody: byId('jobs-body'),
      jobsFilter: byId('jobs-filter'),
      jobsRefresh: byId('jobs-refresh'),
      jobsMore: byId('jobs-more'),
      jobsSummary: byId('jobs-summary'),
      jobsError: byId('jobs-error'),
      queryForm: byId('query-form'),
      question: byId('question'),
      topK: byId('top-k'),
      querySubmit: byId('query-submit'),
      queryError: byId('question-error'),
      answer: byId('answer'),
      answerText: byId('answer-text'),
      sources: byId('sources'),
    };
    this.uploads = new Map(); // local key → upload card state
    this.shown = PAGE;
    this.refreshTimer = null;
    this.loading = null;
    this.seq = 0;
    this.bind();
  }

  start() {
    this.refreshJobs();
    this.pollTimer = setInterval(() => {
      if (document.visibilityState === 'visible') this.refreshJobs();
    }, POLL_MS);
  }

  // -- wiring ----------------------------------------------------------------

  bind() {
    const el = this.el;
    el.drop.addEventListener('click', () => el.input.click());
    el.input.addEventListener('change', () => {
      this.uploadAll([...el.input.files]);
      el.input.value = ''; // the same file can be chosen again
    });
    const over = (e) => {
      if (![...(e.dataTransfer?.types ?? [])].includes('Files')) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
      el.drop.classList.add('dragging');
    };
    el.drop.addEventListener('dragenter', over);
    el.drop.addEventListener('dragover', over);
    el.drop.addEventListener('dragleave', (e) => {
      if (!el.drop.contains(e.relatedTarget)) el.drop.classList.remove('dragging');
    });
    el.drop.addEventListener('drop', (e) => {
      e.preventDefault();
      el.drop.classList.remove('dragging');
      this.uploadAll([...(e.dataTransfer?.files ?? [])]);
    });
    // A file dropped next to the zone must not make the browser navigate
    // away to it.
    window.addEventListener('dragover', (e) => e.preventDefault());
    window.addEventListener('drop', (e) => e.preventDefault());
    el.form.addEventListener('submit', (e) => e.preventDefault());

    el.jobsRefresh.addEventListener('click', () => this.refreshJobs());
    el.jobsFilter.addEventListener('change', () => {
      this.shown = PAGE;
      this.refreshJobs();
    });
    el.jobsMore.addEventListener('click', () => {
      this.shown = Math.min(MAX_ROWS, this.shown + PAGE);
      this.refreshJobs();
    });
    el.queryForm.addEventListener('submit', (e) => {
      e.preventDefault();
      this.ask();
    });
  }

  // -- uploads ---------------------------------------------------------------

  uploadAll(files) {
    showError(this.el.uploadError, '');
    if (!files.length) return;
    const rejected = files.filter((f) => !SUPPORTED.includes(extensionOf(f.name))
      && !['text/plain', 'text/markdown', 'text/html', 'application/pdf'].includes(f.type));
    if (rejected.length) {
      showError(this.el.uploadError,
                `Not uploaded (unsupported type): ${rejected.map((f) => f.name).join(', ')}. Supported: ${SUPPORTED.join(' ')}.`);
    }
    for (const f of files) if (!rejected.includes(f)) this.upload(f);
  }

  async upload(file) {
    const key = `u${++this.seq}`;
    const card = this.buildUploadCard(key, file);
    const u = { key, file, card, job: null, es: null, final: false };
    this.uploads.set(key, u);
    this.el.uploads.prepend(card.li);
    this.el.uploadsEmpty.hidden = true;
    this.showUpload(u, { status: 'uploading', progress: 0 });
    try {
      const accepted = await uploadFile('/api/v2/documents/upload', file, (fraction) =>
        this.showUpload(u, { status: 'uploading', progress: Math.round(fraction * 100) }));
      u.job = { ...accepted, progress: 0 };
      u.card.li.dataset.jobId = accepted.job_id;
      this.showUpload(u, u.job);
      this.follow(u);
      this.scheduleRefresh();
    } catch (e) {
      const msg = e instanceof ApiError ? e.message : String(e);
      u.final = true;
      this.showUpload(u, { status: 'failed', error: `upload refused: ${msg}` });
      announce(`Upload of ${file.name} failed: ${msg}`);
    }
  }

  /** Follows the job's event stream until it is completed or failed. */
  follow(u) {
    const id = u.job.job_id;
    const es = new EventSource(withToken(`/api/v2/documents/${encodeURIComponent(id)}/events`));
    u.es = es;
    const onState = (e) => {
      let job;
      try {
        job = JSON.parse(e.data);
      } catch {
        return;
      }
      u.job = { ...u.job, ...job };
      this.showUpload(u, u.job);
      this.scheduleRefresh();
      if (FINAL.has(job.status)) {
        es.close();
        this.finish(u);
      }
    };
    for (const s of JOB_STATES) es.addEventListener(s, onState);
    es.addEventListener('error', () => {
      // CONNECTING: the browser reconnects and the first event is the
      // current state, so nothing is lost. CLOSED: the node refused the
      // stream; read the state once instead.
      if (es.readyState === EventSource.CLOSED && !u.final) this.pollOnce(u);
      else if (!u.final) this.showUpload(u, { ...u.job, note: 'reconnecting…' });
    });
  }

  async pollOnce(u) {
    try {
      const job = await getJson(`/api/v2/documents/status/${encodeURIComponent(u.job.job_id)}`);
      u.job = { ...u.job, ...job };
      this.showUpload(u, u.job);
      if (FINAL.has(job.status)) this.finish(u);
      else setTimeout(() => this.follow(u), 2000);
    } catch (e) {
      this.showUpload(u, { ...u.job, note: `cannot follow the job: ${e.message}` });
    }
  }

  finish(u) {
    if (u.final) return;
    u.final = true;
    const name = u.job.filename ?? u.file.name;
    if (u.job.status === 'completed') {
      announce(`Document ${name} is processed and searchable.`);
    } else {
      announce(`Document ${name} failed: ${u.job.error ?? 'unknown error'}.`);
    }
    this.scheduleRefresh();
  }

  buildUploadCard(key, file) {
    const base = `upload-${key}`;
    const name = h('span', { class: 'upload-name', id: `${base}-name` }, file.name);
    const size = h('span', { class: 'upload-size' }, formatBytes(file.size));
    const status = h('span', { class: 'badge status' });
    const progress = h('progress', { max: 100, value: 0, 'aria-labelledby': `${base}-name` });
    const pct = h('span', { class: 'upload-pct' });
    const detail = h('p', { class: 'upload-detail' });
    const li = h('li', { class: 'upload', dataset: { key } },
      h('div', { class: 'upload-head' }, name, size, status),
      h('div', { class: 'progress-row' }, progress, pct),
      detail);
    return { li, status, progress, pct, detail };
  }

  showUpload(u, job) {
    const c = u.card;
    const status = job.status ?? 'pending';
    c.li.dataset.status = status;
    c.status.textContent = status;
    c.status.dataset.status = status;
    const p = Number.isFinite(job.progress) ? job.progress : status === 'completed' ? 100 : 0;
    c.progress.value = p;
    c.pct.textContent = `${p}%`;
    const parts = [];
    if (status === 'uploading') parts.push('sending the file');
    const chunks = chunkText(job);
    if (chunks) parts.push(chunks);
    if (job.note) parts.push(job.note);
    if (status === 'failed') parts.push(job.error ?? 'failed');
    if (status === 'completed') parts.push('searchable now');
    c.detail.textContent = parts.join(' · ');
    c.detail.classList.toggle('error-text', status === 'failed');
  }

  // -- the job list ----------------------------------------------------------

  /** Refreshes the table soon (several changes in a burst → one request). */
  scheduleRefresh() {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      this.refreshJobs();
    }, 300);
  }

  async refreshJobs() {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    const url = withQuery('/api/v2/documents/jobs', {
      limit: Math.min(MAX_ROWS, this.shown), offset: 0, status: this.el.jobsFilter.value,
    });
    this.loading = (async () => {
      try {
        const page = await getJson(url);
        showError(this.el.jobsError, '');
        this.renderJobs(page);
      } catch (e) {
        showError(this.el.jobsError, `Cannot load the jobs: ${e.message}`);
      } finally {
        this.loading = null;
      }
      if (this.again) {
        this.again = false;
        this.refreshJobs();
      }
    })();
    return this.loading;
  }

  renderJobs(page) {
    const jobs = page.jobs ?? [];
    const rows = jobs.map((j) => {
      const p = Number.isFinite(j.progress) ? j.progress : 0;
      return h('tr', { dataset: { jobId: j.job_id, status: j.status } },
        h('th', { scope: 'row', class: 'job-file' },
          h('a', { href: `/api/v2/documents/${encodeURIComponent(j.job_id)}/file`,
                   download: j.filename ?? '', title: 'download the uploaded file' }, j.filename ?? j.job_id)),
        h('td', {}, h('span', { class: 'badge status', dataset: { status: j.status } }, j.status),
          j.error ? h('span', { class: 'job-error' }, j.error) : null),
        h('td', { class: 'job-progress' }, h('progress', { max: 100, value: p, 'aria-label': `${j.filename ?? 'job'} progress` }),
          h('span', { class: 'job-pct' }, ` ${p}%`)),
        h('td', {}, Number.isInteger(j.total_chunks) ? `${j.processed_chunks ?? 0} / ${j.total_chunks}` : '—'),
        h('td', {}, timeEl(j.updated_at ?? j.created_at)));
    });
    if (!rows.length) {
      rows.push(h('tr', {}, h('td', { colspan: 5, class: 'muted' },
        this.el.jobsFilter.value ? `No ${this.el.jobsFilter.value} jobs.` : 'No jobs yet.')));
    }
    replaceChildren(this.el.jobsBody, rows);
    const total = Number.isInteger(page.total) ? page.total : jobs.length;
    this.el.jobsSummary.textContent = total ? `Showing ${jobs.length} of ${total} job${total === 1 ? '' : 's'}, newest first.` : '';
    this.el.jobsMore.hidden = !(jobs.length < total && this.shown < MAX_ROWS);
  }

  // -- questions -------------------------------------------------------------

  async ask() {
    const el = this.el;
    if (el.querySubmit.disabled) return; // a question is being answered
    const question = el.question.value.trim();
    if (!question) {
      showError(el.queryError, 'Write a question first.');
      el.question.setAttribute('aria-invalid', 'true');
      el.question.focus();
      return;
    }
    const topK = Number(el.topK.value || 5);
    if (!Number.isInteger(topK) || topK < 1 || topK > 100) {
      showError(el.queryError, 'Sources: a whole number from 1 to 100.');
      el.topK.setAttribute('aria-invalid', 'true');
      el.topK.focus();
      return;
    }
    showError(el.queryError, '');
    el.question.removeAttribute('aria-invalid');
    el.topK.removeAttribute('aria-invalid');
    el.querySubmit.disabled = true;
    el.queryForm.setAttribute('aria-busy', 'true');
    try {
      const res = await postJson('/api/v2/query', { question, top_k: topK });
      this.showAnswer(res);
    } catch (e) {
      showError(el.queryError, `No answer: ${e.message}`);
    } finally {
      el.querySubmit.disabled = false;
      el.queryForm.removeAttribute('aria-busy');
    }
  }

  showAnswer(res) {
    const el = this.el;
    const sources = Array.isArray(res.sources) ? res.sources : [];
    el.answerText.textContent = res.answer ?? '';
    replaceChildren(el.sources, sources.length
      ? sources.map((s) => h('li', { class: 'source', dataset: { chunkId: s.chunk_id ?? '' } },
        h('div', { class: 'source-head' },
          h('span', { class: 'source-file' }, s.filename ?? s.job_id ?? 'document'),
          h('span', { class: 'source-score' }, `score ${num(s.score, 4)}`)),
        h('blockquote', { class: 'source-text' }, s.text ?? '')))
      : [h('li', { class: 'muted' }, 'No sources.')]);
    el.answer.hidden = false;
    announce(`Answer ready with ${sources.length} source${sources.length === 1 ? '' : 's'}.`);
  }
}
