// Thin fetch wrapper for /api/v1. Every failure becomes an ApiError with the
// HTTP status (0 for "no answer"), the server's JSON error body when there is
// one, and Retry-After in milliseconds for 429/503.

export const API_BASE = '/api/v1';

export class ApiError extends Error {
  constructor(status, body, retryAfterMs = null) {
    super(body?.error?.message || (status ? `HTTP ${status}` : 'no connection'));
    this.status = status;
    this.body = body;
    this.retryAfterMs = retryAfterMs;
  }

  get offline() { return this.status === 0; }
}

function retryAfter(response) {
  const value = response.headers.get('Retry-After');
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}

export async function apiFetch(path, { method = 'GET', body, token, timeoutMs = 20000, headers: extra = {} } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const headers = { ...extra, Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(API_BASE + path, {
      method, headers, signal: controller.signal, cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, null);
  } finally {
    clearTimeout(timer);
  }
  if (response.status === 204) return null;
  let data = null;
  try { data = await response.json(); } catch { /* not JSON: keep null */ }
  if (!response.ok) throw new ApiError(response.status, data, retryAfter(response));
  return data;
}
