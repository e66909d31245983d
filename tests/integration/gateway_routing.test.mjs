// Gateway routing against real reference replicas: weighted version split, sticky routing,
// weight changes through the admin API, reload on SIGHUP, aliases and model rewriting, and the
// standby taking traffic when no primary replica is healthy.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  startModel, startGateway, modelConfig, rewriteConfig, postJson, chat, pool, waitFor, metricValue,
} from '../lib/harness.mjs';

const replicas = {};
let gateway;

// The reference model names its version in system_fingerprint ("fp_v1_normal").
const versionOf = (r) => r.json?.system_fingerprint?.split('_')[1];

function config({ v1 = 70, v2 = 30, sticky } = {}) {
  return {
    upstream: { health_check: { interval: '200ms', timeout: '500ms', unhealthy_threshold: 1 } },
    models: [
      modelConfig(
        'fortune',
        [
          { id: 'v1', track: 'stable', weight: v1, replicas: [replicas.a, replicas.b] },
          { id: 'v2', track: 'canary', weight: v2, replicas: [replicas.c] },
          { id: 'v0', track: 'standby', replicas: [replicas.d] },
        ],
        { aliases: ['deepseek-chat'], ...(sticky ? { sticky } : {}) },
      ),
    ],
  };
}

before(async () => {
  [replicas.a, replicas.b, replicas.c, replicas.d] = await Promise.all([
    startModel(['--version', 'v1']),
    startModel(['--version', 'v1']),
    startModel(['--version', 'v2']),
    startModel(['--version', 'v0']),
  ]);
  gateway = await startGateway(config());
});

after(async () => {
  await gateway?.stop();
  await Promise.all(Object.values(replicas).map((r) => r.stop()));
});

async function split(n, body = chat('hi', { max_tokens: 1 }), headers = () => ({})) {
  const counts = {};
  const results = await pool(n, 32, (i) => postJson(`${gateway.url}/v1/chat/completions`, body, headers(i)));
  for (const r of results) {
    assert.equal(r.status, 200, r.text);
    counts[versionOf(r)] = (counts[versionOf(r)] ?? 0) + 1;
  }
  return counts;
}

test('a 70/30 weighted split holds within 2 points over 10,000 requests', async () => {
  const n = 10000;
  const counts = await split(n);
  const share = (counts.v2 ?? 0) / n;
  assert.ok(Math.abs(share - 0.3) <= 0.02, `canary share ${share}`);
  assert.equal(counts.v0 ?? 0, 0, 'the standby takes no traffic while primaries are healthy');
});

test('aliases route to the model and the upstream model name is rewritten', async () => {
  const r = await postJson(`${gateway.url}/v1/chat/completions`, { ...chat('hi', { max_tokens: 1 }), model: 'deepseek-chat' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.model, 'fortune');
  const list = await (await fetch(`${gateway.url}/v1/models`)).json();
  assert.deepEqual(list.data.map((m) => m.id).sort(), ['deepseek-chat', 'fortune']);
  const one = await fetch(`${gateway.url}/models/deepseek-chat`);
  assert.equal(one.status, 200);
});

test('unknown request fields pass through untouched, with or without /v1', async () => {
  const body = { ...chat('hi', { max_tokens: 2 }), thinking: { type: 'enabled' }, top_k: 5, reasoning_content: 'x' };
  const r = await postJson(`${gateway.url}/chat/completions`, body);
  assert.equal(r.status, 200, r.text);
});

test('PUT /admin/v1/models/{model}/weights changes the split at once', async () => {
  const put = await fetch(`${gateway.admin}/admin/v1/models/fortune/weights`, {
    method: 'PUT',
    body: JSON.stringify({ weights: { v1: 0, v2: 100 } }),
  });
  assert.equal(put.status, 200, await put.text());
  const counts = await split(200);
  assert.equal(counts.v2, 200);
  const bad = await fetch(`${gateway.admin}/admin/v1/models/fortune/weights`, {
    method: 'PUT',
    body: JSON.stringify({ weights: { v9: 1 } }),
  });
  assert.equal(bad.status, 404);
  const zero = await fetch(`${gateway.admin}/admin/v1/models/fortune/weights`, {
    method: 'PUT',
    body: JSON.stringify({ weights: { v1: 0, v2: 0 } }),
  });
  assert.equal(zero.status, 400);
  await fetch(`${gateway.admin}/admin/v1/models/fortune/weights`, {
    method: 'PUT',
    body: JSON.stringify({ weights: { v1: 70, v2: 30 } }),
  });
});

test('sticky routing keeps a client on one version', async () => {
  rewriteConfig(gateway, config({ v1: 50, v2: 50, sticky: { header: 'x-user-id' } }));
  gateway.child.kill('SIGHUP');
  await waitFor(async () => {
    const m = await (await fetch(`${gateway.admin}/metrics`)).text();
    return metricValue(m, 'deepseek_config_reloads_total{result="success"}') >= 1;
  });
  for (const user of ['alice', 'bob', 'carol', 'dave']) {
    const counts = await split(40, chat('hi', { max_tokens: 1 }), () => ({ 'x-user-id': user }));
    assert.equal(Object.keys(counts).length, 1, `${user}: ${JSON.stringify(counts)}`);
  }
});

test('a bad configuration on SIGHUP keeps the running one and says why', async () => {
  rewriteConfig(gateway, 'models:\n  - name: fortune\n    versions:\n      - id: v1\n        weight: many\n');
  gateway.child.kill('SIGHUP');
  await waitFor(() => gateway.stderr.includes('keeping the running configuration'), { what: 'the reload error' });
  assert.match(gateway.stderr, /deepwatch\.yaml:5:17: models\[0\]\.versions\[0\]\.weight/);
  const r = await postJson(`${gateway.url}/v1/chat/completions`, chat('hi', { max_tokens: 1 }));
  assert.equal(r.status, 200);
  const m = await (await fetch(`${gateway.admin}/metrics`)).text();
  assert.equal(metricValue(m, 'deepseek_config_reloads_total{result="failure"}'), 1);
  rewriteConfig(gateway, config());
  gateway.child.kill('SIGHUP');
  await waitFor(async () => {
    const text = await (await fetch(`${gateway.admin}/metrics`)).text();
    return metricValue(text, 'deepseek_config_reloads_total{result="success"}') >= 2;
  });
});

test('with every primary replica down, the standby takes the traffic', async () => {
  for (const r of [replicas.a, replicas.b, replicas.c]) {
    await postJson(`${r.url}/fault`, { hang: false, error_rate: 0 });
  }
  // Health checks fail once /health does; stop the primaries' health by killing them.
  await Promise.all([replicas.a.kill(), replicas.b.kill(), replicas.c.kill()]);
  const started = Date.now();
  const results = await pool(50, 8, () => postJson(`${gateway.url}/v1/chat/completions`, chat('hi', { max_tokens: 1 })));
  for (const r of results) {
    assert.equal(r.status, 200, r.text);
    assert.equal(versionOf(r), 'v0');
  }
  assert.ok(Date.now() - started < 5000);
  const models = await (await fetch(`${gateway.admin}/admin/v1/models`)).json();
  await sleep(500);
  const after = await (await fetch(`${gateway.admin}/admin/v1/models`)).json();
  const primaries = after.models[0].versions.filter((v) => v.track !== 'standby').flatMap((v) => v.replicas);
  assert.ok(primaries.every((r) => r.healthy === false), JSON.stringify(models));
});
