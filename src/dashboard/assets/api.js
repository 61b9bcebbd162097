// The admin API from the page: the session cookie goes along by itself (same origin);
// every change carries the session's CSRF token. The key itself is never kept here.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const session = { csrf: '', onSignedOut: () => {} };

export function useSession(csrf, onSignedOut) {
  session.csrf = csrf;
  if (onSignedOut) session.onSignedOut = onSignedOut;
}

export async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = session.csrf;
  const res = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const error = new ApiError(res.status, data?.error?.code ?? 'http_error', data?.error?.message ?? `${method} ${path} answered ${res.status}`);
    if (res.status === 401 && !path.startsWith('/dashboard/session')) session.onSignedOut(error.message);
    throw error;
  }
  return data;
}

/** Copy text; the page tells the user what happened either way. */
export async function copyText(text) {
  await navigator.clipboard.writeText(text);
}
