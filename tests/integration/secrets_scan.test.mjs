// Secrets never leak (R7, R10; SECURITY_RELIABILITY.md 7, case 22 and promise 8): with
// authentication on, keys are created through the admin API, used in Authorization headers,
// pasted into prompts (to a model that masks personal data before it goes upstream, and to one
// that blocks it) and tried wrong, revoked and forbidden; then everything the gateway wrote or
// answered is scanned for the full seeded strings: its debug log, /metrics, every response
// (bodies and headers), the admin API's listings, the audit export and its NDJSON, the weekly
// report, every file of the state directory (the SQLite files and their WALs) and what reached
// the upstream. Key prefixes and masks (dwk_<id>_…abcd) are fine; a whole key is a leak.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, startGateway, modelConfig, waitFor } from '../lib/harness.mjs';
import { startCaptureUpstream } from '../lib/capture_upstream.mjs';

let upstream;
let gateway;
let adminKey;
const keys = {};
const transcript = []; // Every response the gateway gave: status line, headers, body.

// Seeded canaries that look like real secrets of other systems (not the documented examples).
const canaries = {
  aws: 'AKIAZ7Q3XJ5K2M4N6P8T',
  anthropic: `sk-ant-api03-${'Zq8'.repeat(31)}AA`,
  openai: 'sk-proj-Qw3rTy6uIo9pAs2dFg5hJk8lT3BlbkFJzX1cV4bN7mQ0wE',
  github: 'ghp_Zx9Cv8Bn7Mq6Wl5Ek4Rj3Th2Yg1Uf0IdOs9P',
  wrongKey: 'dwk_fedcba987654_CANARYcanaryCANARYcanaryCANARYcanaryCANARYcan',
};

before(async () => {
  upstream = await startCaptureUpstream();
  gateway = await startGateway({
    observe: { scrape_replicas: false },
    security: {
      auth: true,
      roles: [{ name: 'masked-only', rules: [{ apiGroups: ['deepseek.ai'], resources: ['models'], verbs: ['infer'], resourceNames: ['masked'] }] }],
      pii: { models: { masked: { mode: 'mask', forward_redacted: true }, blocked: { mode: 'block' } } },
      audit: { impact_window: '1s' },
    },
    models: [
      modelConfig('masked', [{ id: 'v1', track: 'stable', weight: 100, replicas: [upstream] }]),
      modelConfig('blocked', [{ id: 'v1', track: 'stable', weight: 100, replicas: [upstream] }]),
    ],
  }, { ready: false, logLevel: 'debug' });
  adminKey = readFileSync(join(gateway.configDir, 'state', 'admin.key'), 'utf8').trim();
  await waitFor(async () => (await fetch(`${gateway.admin}/readyz`)).status === 200, { what: '/readyz' });
});
after(async () => {
  await gateway?.stop();
  await upstream?.stop();
});

async function call(base, method, path, key, body, extraHeaders = {}) {
  const headers = { 'content-type': 'application/json', ...extraHeaders };
  if (key !== undefined) headers.authorization = `Bearer ${key}`;
  const response = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  // A created key is shown once, to its creator, by design: that answer is not a leak.
  const created = method === 'POST' && path === '/admin/v1/keys' && response.status === 200;
  if (!created) transcript.push(`${response.status} ${JSON.stringify([...response.headers])}\n${text}`);
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: response.status, text, json };
}
const admin = (method, path, body, key = adminKey) => call(gateway.admin, method, path, key, body);
const api = (key, body, headers) => call(gateway.url, 'POST', '/v1/chat/completions', key, body, headers);
const chat = (model, content, extra = {}) => ({ model, messages: [{ role: 'user', content }], ...extra });

test('traffic with seeded keys: created, used, pasted into prompts, wrong, revoked, forbidden', async () => {
  for (const [name, roles] of [['client', ['client']], ['masked-only', ['masked-only']], ['operator', ['operator']], ['doomed', ['client']]]) {
    const r = await admin('POST', '/admin/v1/keys', { name, user: `u-${name}`, roles, reason: 'secrets scan' });
    assert.equal(r.status, 200, r.text);
    assert.match(r.json.key, /^dwk_[0-9a-f]{12}_/);
    keys[name] = r.json.key;
  }
  const pasted = `keys: ${keys.client} ${canaries.aws} ${canaries.anthropic} ${canaries.openai} ${canaries.github} password=${canaries.wrongKey}`;
  // Served, streamed, masked on the way upstream.
  assert.equal((await api(keys.client, chat('masked', 'hello'))).status, 200);
  assert.equal((await api(keys['masked-only'], chat('masked', pasted))).status, 200);
  assert.equal((await api(keys.client, chat('masked', pasted, { stream: true }))).status, 200);
  // Blocked: personal data in a prompt to a model that refuses it.
  const blocked = await api(keys.client, chat('blocked', pasted));
  assert.equal(blocked.status, 400, blocked.text);
  // Wrong, malformed and missing keys; a key in odd places.
  for (const key of [canaries.wrongKey, canaries.openai, `${keys.client}x`, keys.client.slice(0, -1), '']) {
    assert.equal((await api(key, chat('masked', 'hi'))).status, 401);
  }
  assert.equal((await call(gateway.url, 'POST', '/v1/chat/completions', undefined, chat('masked', 'hi'), { 'x-api-key': canaries.anthropic })).status, 401);
  assert.equal((await call(gateway.url, 'GET', `/v1/models?api_key=${canaries.openai}`, keys.client)).status, 200);
  // Forbidden: a key used beyond its role, on the API and the admin API.
  assert.equal((await api(keys['masked-only'], chat('blocked', 'hi'))).status, 403);
  assert.equal((await admin('POST', '/admin/v1/keys', { name: 'escalate', roles: ['admin'], reason: 'try' }, keys.operator)).status, 403);
  assert.equal((await admin('GET', '/admin/v1/keys', undefined, keys.client)).status, 403);
  assert.equal((await admin('GET', '/admin/v1/keys', undefined, canaries.wrongKey)).status, 401);
  // Revoked, then used.
  const listed = (await admin('GET', '/admin/v1/keys')).json.keys;
  const doomed = listed.find((k) => k.name === 'doomed');
  assert.ok(doomed, JSON.stringify(listed));
  assert.equal((await admin('DELETE', `/admin/v1/keys/${doomed.id}`, { reason: 'secrets scan' })).status, 200);
  assert.equal((await api(keys.doomed, chat('masked', 'hi'))).status, 401);
  // An operation that is audited, with a key in its reason by mistake.
  assert.equal((await admin('PUT', '/admin/v1/models/masked/weights', { weights: { v1: 50 }, reason: `rotating ${canaries.aws}` })).status, 200);
});

test('no seeded key or secret appears anywhere the gateway wrote or answered', async () => {
  const state = join(gateway.configDir, 'state');
  const audit = spawnSync(BIN, ['audit', 'export', '--db', join(state, 'audit.db')], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(audit.status, 0, audit.stderr);
  const out = mkdtempSync(join(tmpdir(), 'dw-secrets-'));
  const report = spawnSync(BIN, ['report', '--state-dir', state, '-o', join(out, 'report.html'), '--json', join(out, 'report.json')], { encoding: 'utf8' });
  assert.equal(report.status, 0, report.stderr);
  const places = {
    'gateway log (debug)': gateway.stderr,
    metrics: await (await fetch(`${gateway.admin}/metrics`)).text(),
    'audit export': audit.stdout,
    'weekly report': readFileSync(join(out, 'report.html'), 'utf8') + readFileSync(join(out, 'report.json'), 'utf8'),
    'what reached the upstream': upstream.raw,
  };
  for (const path of ['/admin/v1/keys?revoked=true', '/admin/v1/audit?limit=1000', '/admin/v1/events', '/admin/v1/models', '/admin/v1/whoami', '/admin/v1/rolebindings', '/admin/v1/roles']) {
    places[`GET ${path}`] = (await admin('GET', path)).text;
  }
  places['every response'] = transcript.join('\n');
  // Every file the gateway keeps, byte for byte, but the key files it writes on purpose (0600).
  for (const file of readdirSync(state)) {
    if (file === 'admin.key' || file === 'pii.key') continue;
    places[`state/${file}`] = readFileSync(join(state, file)).toString('latin1');
  }
  assert.ok(Object.keys(places).some((p) => p.startsWith('state/audit.db')), Object.keys(places).join(', '));
  const secrets = { ...canaries, admin: adminKey, ...Object.fromEntries(Object.entries(keys).map(([n, k]) => [`key ${n}`, k])) };
  // The client's own key went upstream only masked; the pasted canaries too.
  const leaks = [];
  for (const [place, text] of Object.entries(places)) {
    for (const [name, secret] of Object.entries(secrets)) {
      if (text.includes(secret)) leaks.push(`${place} contains ${name} (${secret.slice(0, 8)}…)`);
    }
  }
  console.log(`# scanned ${Object.keys(places).length} places (${Object.values(places).reduce((n, t) => n + t.length, 0)} bytes) for ${Object.keys(secrets).length} secrets: ${leaks.length} leaks`);
  assert.deepEqual(leaks, []);
  // The scan can fail: the masked prompts did reach the upstream, masked.
  assert.ok(upstream.requests.some((r) => r.body.includes('keys: ')), 'the masked prompt was forwarded');
  assert.ok(!upstream.requests.some((r) => 'authorization' in r.headers), 'no client key travels upstream');
  rmSync(out, { recursive: true, force: true });
});
