// The HTTP API as the page uses it: the session (token, user, role) kept in sessionStorage for
// this tab only, JSON requests with the bearer token, errors as ApiError with the server's
// message. A 401 ends the session and sends the user back to the login screen.

const KEY = 'courtscribe.session';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function session() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) || 'null');
  } catch {
    return null;
  }
}

export function setSession(s) {
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
  else sessionStorage.removeItem(KEY);
}

export async function login(username, password) {
  const r = await fetch('/api/auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new ApiError(r.status, body.error || `HTTP ${r.status}`);
  const s = { token: body.token, role: body.role, username, expires_at: body.expires_at };
  setSession(s);
  return s;
}

export async function logout() {
  const s = session();
  setSession(null);
  if (s) await fetch('/api/auth/logout', { method: 'POST', headers: auth(s) }).catch(() => {});
}

function auth(s) {
  return s ? { Authorization: `Bearer ${s.token}` } : {};
}

/** `path` with the token as a query parameter, for <audio>, <a download> and EventSource, which
 *  cannot send headers (the server accepts `?token=` for exactly these). */
export function withToken(path) {
  const s = session();
  const sep = path.includes('?') ? '&' : '?';
  return s ? `${path}${sep}token=${encodeURIComponent(s.token)}` : path;
}

/** A JSON request. Resolves to the parsed body (or null); rejects with ApiError. */
export async function api(path, { method = 'GET', body, raw = false } = {}) {
  const s = session();
  const headers = auth(s);
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // 401 with the session still current: it expired. (After a logout, late answers are ignored.)
  if (r.status === 401 && s && session()?.token === s.token) {
    sessionStorage.setItem('courtscribe.after-login', location.hash);
    setSession(null);
    location.hash = '#/login';
  }
  if (raw) return r;
  const text = await r.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!r.ok) throw new ApiError(r.status, (data && data.error) || `HTTP ${r.status}`);
  return { status: r.status, data };
}

export const get = (p) => api(p).then((r) => r.data);
