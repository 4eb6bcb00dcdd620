// The node's HTTP API as the page uses it: JSON requests whose errors carry
// the façade's {"error": word, "detail": sentence} body.
//
// API tokens: a node that requires one answers 401; the page then asks for
// it (app.js) and keeps it in this browser's localStorage. Requests send it
// as `Authorization: Bearer …`; EventSource cannot send headers, so stream
// URLs carry it as `?access_token=` (withToken).

const TOKEN_KEY = 'distiller.apiToken';

/** The API token this browser keeps for the node, or "". */
export function apiToken() {
  try {
    return localStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}

/** Keeps `token` (or forgets it when empty). */
export function setApiToken(token) {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

/** Headers carrying the token, if there is one. */
export function authHeaders() {
  const t = apiToken();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

/** `url` with ?access_token= when a token is kept (for EventSource). */
export function withToken(url) {
  const t = apiToken();
  if (!t) return url;
  return `${url}${url.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(t)}`;
}

/** Tells the page a request was refused for want of a (valid) token. */
function announceUnauthorized(detail) {
  window.dispatchEvent(new CustomEvent('distiller:unauthorized', { detail }));
}

/** An answer other than 2xx: status, the error word and its sentence. */
export class ApiError extends Error {
  constructor(status, code, detail, body = null, retryAfter = null) {
    super(detail || code || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.body = body;
    this.retryAfter = retryAfter;
  }
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date). */
export function retryAfterSeconds(value) {
  if (!value) return null;
  const n = Number(value);
  if (Number.isFinite(n) && n >= 0) return n;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : Math.max(0, (t - Date.now()) / 1000);
}

async function errorFrom(res) {
  let body = null;
  try {
    body = await res.json();
  } catch {
    // not JSON (a proxy's page): the status alone says it
  }
  const code = body && typeof body.error === 'string' ? body.error : `http_${res.status}`;
  const detail = body && typeof body.detail === 'string' ? body.detail
    : `the node answered ${res.status} ${res.statusText}`.trim();
  return new ApiError(res.status, code, detail, body,
                      retryAfterSeconds(res.headers.get('Retry-After')));
}

/**
 * `fetch` returning the parsed JSON body; throws ApiError for non-2xx
 * answers and for network failures (status 0, code "network").
 */
export async function requestJson(url, { method = 'GET', body, headers = {}, signal } = {}) {
  const init = {
    method, headers: { Accept: 'application/json', ...authHeaders(), ...headers }, signal, cache: 'no-store',
  };
  if (body !== undefined) {
    if (body instanceof FormData) {
      init.body = body;
    } else {
      init.body = JSON.stringify(body);
      init.headers['Content-Type'] = 'application/json';
    }
  }
  let res;
  try {
    res = await fetch(url, init);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'the node cannot be reached (network error)');
  }
  if (!res.ok) {
    const err = await errorFrom(res);
    if (res.status === 401) announceUnauthorized(err.detail);
    throw err;
  }
  if (res.status === 204) return null;
  return res.json();
}

export const getJson = (url, opts) => requestJson(url, opts);
export const postJson = (url, body, opts = {}) => requestJson(url, { ...opts, method: 'POST', body });

/** Builds "path?k=v&…" leaving out empty values. */
export function withQuery(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== null && v !== undefined && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/**
 * Uploads one file (multipart field `file`) with XMLHttpRequest, which
 * reports upload progress; resolves to the 202 body, rejects with ApiError.
 */
export function uploadFile(url, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.responseType = 'text';
    xhr.setRequestHeader('Accept', 'application/json');
    for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total);
    });
    xhr.addEventListener('load', () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // not JSON
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(body);
      } else {
        if (xhr.status === 401) announceUnauthorized(body?.detail ?? '');
        reject(new ApiError(xhr.status, body?.error ?? `http_${xhr.status}`,
                            body?.detail ?? `the node answered ${xhr.status}`, body,
                            retryAfterSeconds(xhr.getResponseHeader('Retry-After'))));
      }
    });
    xhr.addEventListener('error', () =>
      reject(new ApiError(0, 'network', 'the upload failed: the node cannot be reached')));
    xhr.addEventListener('abort', () => reject(new ApiError(0, 'aborted', 'the upload was cancelled')));
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
}
