// Authentication, RBAC, PII and the audit trail at the gateway's doors (R7, R8): 401 and 403 in
// OpenAI's shape, an RBAC matrix of every role against every admin endpoint and model, no
// escalation, revocation, PII masked before it goes upstream or blocked, every operation in a
// verified hash chain, and no seeded secret anywhere in logs, metrics, errors or exports.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, startModel, startGateway, modelConfig, chat, waitFor } from '../lib/harness.mjs';

let model;
let gateway;
let adminKey;
const keys = {}; // role -> key
// Seeded canaries: none of these may appear anywhere the gateway writes.
const canaryAws = 'AKIAZ7Q3XJ5K2M4N6P8R';
const canaryPhone = '13912345678';
const canaryWrongKey = 'dwk_0123456789ab_SEEDEDcanarySEEDEDcanarySEEDEDcanarySEEDEDc';

before(async () => {
  model = await startModel(['--version', 'v1']);
  gateway = await startGateway({
    security: {
      auth: true,
      roles: [{ name: 'fortune-only', rules: [{ apiGroups: ['deepseek.ai'], resources: ['models'], verbs: ['infer'], resourceNames: ['fortune'] }] }],
      pii: { models: { private: { mode: 'block' }, fortune: { mode: 'mask', forward_redacted: true } } },
      audit: { impact_window: '1s' },
      privacy: { epsilon: 4, budget: 10 },
    },
    models: [
      modelConfig('fortune', [{ id: 'v1', track: 'stable', weight: 100, replicas: [model] }]),
      modelConfig('private', [{ id: 'v1', track: 'stable', weight: 100, upstream_model: 'fortune', replicas: [model] }]),
    ],
  }, { ready: false });
  adminKey = readFileSync(join(gateway.configDir, 'state', 'admin.key'), 'utf8').trim();
  await waitFor(async () => (await fetch(`${gateway.admin}/readyz`)).status === 200, { what: '/readyz' });
  for (const role of ['operator', 'viewer', 'client', 'model-operator', 'fortune-only']) {
    const r = await admin('POST', '/admin/v1/keys', { name: `${role}-key`, user: `u-${role}`, roles: [role], reason: 'test' });
    assert.equal(r.status, 200, r.text);
    keys[role] = r.json.key;
  }
  const none = await admin('POST', '/admin/v1/keys', { name: 'nobody', user: 'u-nobody', reason: 'test' });
  keys.none = none.json.key;
  keys.admin = adminKey;
});
after(async () => {
  await gateway?.stop();
  await model?.stop();
});

async function call(base, method, path, key, body) {
  const headers = { 'content-type': 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  const response = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: response.status, text, json };
}
const admin = (method, path, body, key = adminKey) => call(gateway.admin, method, path, key, body);
const api = (path, key, body) => call(gateway.url, body === undefined ? 'GET' : 'POST', path, key, body);

test('no key, a malformed key or an unknown key gets 401 in the OpenAI shape, without echoing it', async () => {
  for (const key of [undefined, 'sk-not-ours', canaryWrongKey]) {
    const r = await api('/v1/chat/completions', key, chat('hello', { max_tokens: 4 }));
    assert.equal(r.status, 401);
    assert.equal(r.json.error.type, 'invalid_request_error');
    assert.match(r.json.error.code, /^(missing|invalid)_api_key$/);
    assert.ok(!r.text.includes('SEEDED') && !r.text.includes('sk-not-ours'));
    const a = await admin('GET', '/admin/v1/versions', undefined, key ?? '');
    assert.equal(a.status, 401);
  }
  // Health and metrics stay public (probes, Prometheus).
  assert.equal((await call(gateway.admin, 'GET', '/healthz')).status, 200);
  assert.equal((await call(gateway.admin, 'GET', '/metrics')).status, 200);
});

test('RBAC matrix: every role against every admin endpoint and model', async () => {
  // Bodies are invalid on purpose where the operation would change the fleet: RBAC is decided
  // before the body is read, so "allowed" shows as anything but 401/403.
  const endpoints = [
    ['GET', '/admin/v1/models', 'list-models'],
    ['GET', '/admin/v1/versions', 'read'],
    ['GET', '/admin/v1/rollouts', 'read'],
    ['GET', '/admin/v1/events', 'read'],
    ['GET', '/admin/v1/alerts', 'read'],
    ['GET', '/admin/v1/settings', 'read'],
    ['GET', '/admin/v1/audit', 'read'],
    ['GET', '/admin/v1/keys', 'admin'],
    ['GET', '/admin/v1/roles', 'admin'],
    ['POST', '/admin/v1/rollouts', 'deploy', { model: 'fortune', version: 'nope', reason: 'matrix' }],
    ['POST', '/admin/v1/rollback', 'rollback', { model: 'fortune', to: 'nope', reason: 'matrix' }],
    ['POST', '/admin/v1/rollouts/fortune/promote', 'operate', { reason: 'matrix' }],
    ['POST', '/admin/v1/rollouts/fortune/pause', 'operate', { reason: 'matrix' }],
    ['POST', '/admin/v1/scale', 'operate', { model: 'fortune', version: 'nope', replicas: 1, reason: 'matrix' }],
    ['PUT', '/admin/v1/models/fortune/weights', 'operate', { weights: { nope: 1 }, reason: 'matrix' }],
    ['POST', '/admin/v1/settings', 'operate', { rollout: { p99_ratio: -1 }, reason: 'matrix' }],
    ['POST', '/admin/v1/reload', 'operate', {}],
    ['POST', '/admin/v1/keys', 'admin', { reason: 'matrix' }],
    ['DELETE', '/admin/v1/keys/000000000000', 'admin', { reason: 'matrix' }],
    ['POST', '/admin/v1/rolebindings', 'admin', { name: 'x' }],
  ];
  const allows = {
    admin: () => true,
    operator: (kind) => kind !== 'admin',
    viewer: (kind) => kind === 'read' || kind === 'list-models',
    client: (kind) => kind === 'list-models', // the models a key may see, as GET /v1/models

    'model-operator': (kind) => kind === 'deploy' || kind === 'rollback',
    'fortune-only': () => false,
    none: () => false,
  };
  const wrong = [];
  for (const [role, allowed] of Object.entries(allows)) {
    for (const [method, path, kind, body] of endpoints) {
      const r = await admin(method, path, body, keys[role]);
      const got = r.status !== 401 && r.status !== 403;
      if (got !== allowed(kind)) wrong.push(`${role} ${method} ${path}: ${r.status}`);
      if (r.status === 403) assert.equal(r.json.error.type, 'permission_error');
    }
  }
  assert.deepEqual(wrong, []);
  // Models: infer per role and per model.
  const infer = { admin: ['fortune', 'private'], operator: ['fortune', 'private'], client: ['fortune', 'private'], 'fortune-only': ['fortune'], viewer: [], 'model-operator': [], none: [] };
  for (const [role, models] of Object.entries(infer)) {
    for (const name of ['fortune', 'private']) {
      const r = await api('/v1/chat/completions', keys[role], { model: name, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 });
      const ok = r.status === 200;
      assert.equal(ok, models.includes(name), `${role} on ${name}: ${r.status} ${r.text}`);
      if (!ok) {
        assert.equal(r.status, 403);
        assert.equal(r.json.error.code, 'model_not_permitted');
      }
    }
  }
});

test('nobody grants what they do not hold; a revoked key stops working', async () => {
  const escalate = await admin('POST', '/admin/v1/keys', { name: 'sneaky', roles: ['admin'], reason: 'try' }, keys.operator);
  assert.equal(escalate.status, 403);
  const bind = await admin('POST', '/admin/v1/rolebindings', { name: 'b', roleRef: { name: 'admin' }, subjects: [{ kind: 'User', name: 'u-operator' }] }, keys.operator);
  assert.equal(bind.status, 403);
  const role = await admin('POST', '/admin/v1/roles', { name: 'god', rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] }, keys.operator);
  assert.equal(role.status, 403);
  // The admin may; then revocation takes effect at once.
  const created = await admin('POST', '/admin/v1/keys', { name: 'short-lived', roles: ['client'], reason: 'test' });
  assert.equal(created.status, 200);
  assert.equal((await api('/v1/chat/completions', created.json.key, chat('hi', { max_tokens: 2 }))).status, 200);
  const listed = await admin('GET', '/admin/v1/keys');
  assert.ok(!listed.text.includes(created.json.key), 'listings show keys masked');
  assert.ok(listed.json.keys.some((k) => k.key.startsWith(`dwk_${created.json.id}_`) && k.key.endsWith(created.json.key.slice(-4))));
  assert.equal((await admin('DELETE', `/admin/v1/keys/${created.json.id}`, { reason: 'done' })).status, 200);
  assert.equal((await api('/v1/chat/completions', created.json.key, chat('hi', { max_tokens: 2 }))).status, 401);
});

test('personal data: masked before it goes upstream for one model, refused for another, counted', async () => {
  const secret = `My phone is ${canaryPhone} and my key is ${canaryAws}, classify this`;
  const masked = await api('/v1/chat/completions', keys.client, {
    model: 'fortune', messages: [{ role: 'system', content: 'classify' }, { role: 'user', content: secret }],
  });
  assert.equal(masked.status, 200, masked.text);
  const blocked = await api('/v1/chat/completions', keys.client, { model: 'private', messages: [{ role: 'user', content: secret }] });
  assert.equal(blocked.status, 400);
  assert.equal(blocked.json.error.code, 'pii_detected');
  assert.ok(!blocked.text.includes(canaryPhone));
  const metrics = await (await fetch(`${gateway.admin}/metrics`)).text();
  const phones = metrics.split('\n').filter((l) => l.startsWith('deepseek_input_pii_total{') && l.includes('type="phone"'));
  assert.ok(phones.some((l) => l.includes('model="fortune"') && !l.endsWith(' 0')), phones.join('\n'));
  assert.ok(phones.some((l) => l.includes('model="private"') && !l.endsWith(' 0')), phones.join('\n'));
});

test('every operation is in the audit chain, which verifies, with RBAC decisions and impact', async () => {
  const weights = await admin('PUT', '/admin/v1/models/fortune/weights', { weights: { v1: 100 }, reason: 'audit test' });
  assert.equal(weights.status, 200, weights.text);
  const denied = await admin('PUT', '/admin/v1/models/fortune/weights', { weights: { v1: 100 }, reason: 'not mine' }, keys.viewer);
  assert.equal(denied.status, 403);
  const entries = async (q) => (await admin('GET', `/admin/v1/audit?${q}`)).json.entries;
  const ops = await entries('operation=weights&limit=100');
  const mine = ops.filter((e) => e.user?.name === 'admin');
  assert.ok(mine.length >= 2, JSON.stringify(ops)); // request and response stages
  const viewerDenied = ops.find((e) => e.user?.name === 'u-viewer');
  assert.ok(viewerDenied, JSON.stringify(ops));
  assert.equal(viewerDenied.event.outcome, 'failure');
  assert.ok(JSON.stringify(viewerDenied).includes('deny'));
  assert.ok((await entries('operation=key_create')).length >= 6);
  // The impact assessment of the weight change follows once its window has closed.
  await waitFor(async () => (await entries('operation=impact')).length > 0, { timeout: 10000, what: 'an impact entry' });
  const verify = spawnSync(BIN, ['audit', 'verify', '--db', join(gateway.configDir, 'state', 'audit.db')], { encoding: 'utf8' });
  assert.equal(verify.status, 0, verify.stdout + verify.stderr);
  assert.match(verify.stdout, /^ok: \d+ entries/);
});

test('the public view of a baseline is noised and paid from a budget that runs out', async () => {
  for (let i = 0; i < 20; ++i) {
    await api('/v1/chat/completions', keys.client, { model: 'fortune', messages: [{ role: 'system', content: 'classify' }, { role: 'user', content: `The computer number ${i}` }] });
  }
  await waitFor(async () => (await admin('POST', '/admin/v1/baselines/fortune', { reason: 'dp test' })).status === 200, { timeout: 10000, what: 'a baseline' });
  const exact = (await admin('GET', '/admin/v1/baselines/fortune')).json;
  const first = await admin('GET', '/admin/v1/baselines/fortune?public=true');
  const second = await admin('GET', '/admin/v1/baselines/fortune?public=true');
  assert.equal(first.status, 200, first.text);
  assert.equal(second.status, 200, second.text);
  // Noise on every count: the two releases and the exact one cannot all agree.
  assert.notDeepEqual([first.json.histograms, second.json.histograms], [exact.histograms, exact.histograms]);
  const third = await admin('GET', '/admin/v1/baselines/fortune?public=true');
  assert.notEqual(third.status, 200, 'epsilon 4 x 3 exceeds the budget of 10');
  assert.match(third.text, /budget/);
});

test('no seeded secret or key appears in logs, metrics, errors or exports', async () => {
  const exported = spawnSync(BIN, ['audit', 'export', '--db', join(gateway.configDir, 'state', 'audit.db')], { encoding: 'utf8' });
  assert.equal(exported.status, 0, exported.stderr);
  const places = {
    'gateway log': gateway.stderr,
    metrics: await (await fetch(`${gateway.admin}/metrics`)).text(),
    'audit export': exported.stdout,
    'audit ndjson': readFileSync(join(gateway.configDir, 'state', 'audit.ndjson'), 'utf8'),
    'key listing': (await admin('GET', '/admin/v1/keys')).text,
    events: (await admin('GET', '/admin/v1/events')).text,
  };
  const secrets = [canaryAws, canaryPhone, canaryWrongKey, ...Object.values(keys)];
  for (const [place, text] of Object.entries(places)) {
    for (const s of secrets) assert.ok(!text.includes(s), `${place} contains a seeded secret (${s.slice(0, 6)}…)`);
  }
});
