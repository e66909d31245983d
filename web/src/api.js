// The admin API as the dashboard calls it: the key from the login form goes in the
// Authorization header of every call (never in a URL), and answers come back as
// {status, json, text}. A 401 means the key is gone or revoked: the page signs out.

const KEY = 'deepwatch.key';

export function storedKey() {
  return sessionStorage.getItem(KEY) ?? '';
}

export function storeKey(key) {
  if (key) sessionStorage.setItem(KEY, key);
  else sessionStorage.removeItem(KEY);
}

let onUnauthorized = () => {};
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

export async function call(method, path, body, { key = storedKey(), signal } = {}) {
  const headers = { accept: path === '/metrics' ? 'text/plain' : 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
    credentials: 'omit',
    signal: signal ?? AbortSignal.timeout(15000),
  });
  const text = await response.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // /metrics and plain-text errors.
  }
  // Only a key that was accepted before and is refused now signs the page out.
  if (response.status === 401 && key && key === storedKey()) onUnauthorized();
  return { status: response.status, ok: response.ok, json, text };
}

export const get = (path, options) => call('GET', path, undefined, options);
export const post = (path, body, options) => call('POST', path, body ?? {}, options);

// The message of an error answer in the OpenAI shape, or the raw text.
export function errorMessage(reply) {
  return reply.json?.error?.message ?? (reply.text || `HTTP ${reply.status}`);
}
