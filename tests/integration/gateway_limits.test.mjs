// Gateway limits and error shapes: header and body limits, per-model concurrency with a bounded
// queue, upstream timeouts, no healthy replica, bad requests, upstream errors passed through,
// request ids, and configuration errors that name file:line:column.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, startModel, startGateway, modelConfig, postJson, chat, waitFor } from '../lib/harness.mjs';

let slow;
let fast;
let gateway;
before(async () => {
  slow = await startModel(['--token-latency', '40ms']);
  fast = await startModel();
  gateway = await startGateway({
    workers: 1,
    limits: { max_header_bytes: '8KiB', max_body_bytes: '64KiB' },
    upstream: { timeouts: { first_byte: '1500ms', request: '3s' }, health_check: { interval: '200ms' } },
    models: [
      modelConfig('slow', [{ id: 'v1', weight: 1, replicas: [slow] }], { max_concurrency: 1, max_queue: 0, upstream_model: 'x' }),
      modelConfig('fortune', [{ id: 'v1', weight: 1, replicas: [fast] }]),
      modelConfig('nowhere', [{ id: 'v1', weight: 1, replicas: ['http://127.0.0.1:1'] }]),
    ].map((m) => {
      if (m.name === 'slow') {
        delete m.upstream_model;
        m.versions[0].upstream_model = 'fortune';
      }
      return m;
    }),
  }, { ready: true });
});
after(async () => {
  await gateway?.stop();
  await slow?.stop();
  await fast?.stop();
});

const api = (path = '/v1/chat/completions') => `${gateway.url}${path}`;

function assertOpenAiError(r, status, code) {
  assert.equal(r.status, status, r.text);
  assert.equal(typeof r.json.error.message, 'string');
  assert.equal(typeof r.json.error.type, 'string');
  assert.ok('param' in r.json.error && 'code' in r.json.error);
  if (code) assert.equal(r.json.error.code, code);
  assert.ok(r.headers.get('x-request-id'));
}

test('bad requests get OpenAI-shaped 400/404/405 from the gateway', async () => {
  assertOpenAiError(await postJson(api(), '{"model": "fortune", "messages": ['), 400, 'invalid_json');
  assertOpenAiError(await postJson(api(), { messages: [] }), 400);
  assertOpenAiError(await postJson(api(), { model: 7, messages: [] }), 400);
  assertOpenAiError(await postJson(api(), '{"model":"fortune","model":"slow","messages":[]}'), 400);
  assertOpenAiError(await postJson(api(), chat('x', { model: 'gpt-9' })), 404, 'model_not_found');
  assertOpenAiError(await postJson(api('/v1/nothing'), {}), 404, 'unknown_url');
  const get = await fetch(api());
  assert.equal(get.status, 405);
});

test('upstream OpenAI errors pass through unchanged', async () => {
  const direct = await postJson(`${fast.url}/v1/chat/completions`, chat('x', { n: 2 }));
  const proxied = await postJson(api(), chat('x', { n: 2 }));
  assert.equal(proxied.status, 400);
  assert.deepEqual(proxied.json, direct.json);
});

test('x-request-id is propagated when given and generated when not', async () => {
  const given = await postJson(api(), chat('x', { max_tokens: 1 }), { 'x-request-id': 'trace-42' });
  assert.equal(given.headers.get('x-request-id'), 'trace-42');
  const generated = await postJson(api(), chat('x', { max_tokens: 1 }));
  assert.match(generated.headers.get('x-request-id'), /^req_[0-9a-f]{16}$/);
});

test('oversized headers get 431 and oversized bodies 413', async () => {
  const big = await fetch(api(), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-padding': 'a'.repeat(10000) },
    body: JSON.stringify(chat('x')),
  });
  assert.equal(big.status, 431);
  const huge = await postJson(api(), chat('x'.repeat(100 * 1024)));
  assertOpenAiError(huge, 413);
  assert.equal((await postJson(api(), chat('x', { max_tokens: 1 }))).status, 200, 'still serving');
});

test('a model at its concurrency limit answers 429 with Retry-After', async () => {
  const busy = postJson(api(), chat('The law', { model: 'slow', max_tokens: 10, seed: 1 }));
  await sleep(100);
  const refused = await postJson(api(), chat('x', { model: 'slow', max_tokens: 1 }));
  assertOpenAiError(refused, 429, 'model_overloaded');
  assert.equal(refused.headers.get('retry-after'), '1');
  assert.equal((await busy).status, 200);
  assert.equal((await postJson(api(), chat('x', { model: 'slow', max_tokens: 1 }))).status, 200, 'the slot is free again');
});

test('an upstream that does not answer in time gets 504', async () => {
  await postJson(`${fast.url}/fault`, { latency: '2500ms' });
  try {
    const started = Date.now();
    const r = await postJson(api(), chat('x', { max_tokens: 1 }));
    assertOpenAiError(r, 504, 'upstream_timeout');
    assert.ok(Date.now() - started < 2400);
  } finally {
    await postJson(`${fast.url}/fault`, { clear: true });
  }
});

test('upstream 503s are retried, then passed through with their Retry-After', async () => {
  await postJson(`${fast.url}/fault`, { error_rate: 1, error_status: 503 });
  try {
    const r = await postJson(api(), chat('x', { max_tokens: 1 }));
    assert.equal(r.status, 503);
    assert.equal(r.json.error.code, 'overloaded');
    assert.equal(r.headers.get('retry-after'), '1');
  } finally {
    await postJson(`${fast.url}/fault`, { clear: true });
  }
});

test('a replica that refuses connections gets 502, then 503 once marked down', async () => {
  const first = await postJson(api(), chat('x', { model: 'nowhere' }));
  assert.ok([502, 503].includes(first.status), first.text);
  assert.ok(first.json.error);
  await waitFor(async () => (await postJson(api(), chat('x', { model: 'nowhere' }))).status === 503, { what: 'no_healthy_upstream' });
  const r = await postJson(api(), chat('x', { model: 'nowhere' }));
  assertOpenAiError(r, 503, 'no_healthy_upstream');
  assert.equal(r.headers.get('retry-after'), '1');
});

// Ambiguous framing (smuggling) has its own catalog-driven suite: http_attacks.test.mjs.

test('a bad configuration fails at start with file:line:column and the key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dw-bad-'));
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'models:\n  - name: fortune\n    versions:\n      - id: v1\n        wieght: 3\n        replicas: [{url: "http://127.0.0.1:1"}]\n');
  const r = spawnSync(BIN, ['serve', '-c', file], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /bad\.yaml:5:9: models\[0\]\.versions\[0\]\.wieght: unknown key/);
  writeFileSync(file, 'models:\n  - name: fortune\n    versions:\n      - id: v1\n        replicas: [{url: "ftp://x"}]\n');
  const r2 = spawnSync(BIN, ['serve', '-c', file], { encoding: 'utf8' });
  assert.equal(r2.status, 2);
  assert.match(r2.stderr, /bad\.yaml:5:\d+: models\[0\]\.versions\[0\]\.replicas\[0\]\.url: must be an http:\/\/ URL/);
});
