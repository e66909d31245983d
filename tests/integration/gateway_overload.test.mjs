// Overload (R10; SECURITY_RELIABILITY.md 7, cases 14 and 18): far more concurrent requests than
// a model's concurrency and queue allow get 503 with Retry-After at once, and large bodies past
// limits.max_buffered_body_bytes are shed with 503 before they are read, so the gateway's peak
// RSS (VmHWM) stays bounded; once the load is gone the gateway serves normally again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { startGateway, modelConfig, metricValue } from '../lib/harness.mjs';
import { startCaptureUpstream } from '../lib/capture_upstream.mjs';

const MiB = 1024 * 1024;
const BUDGET = 16 * MiB;

let upstream;
let gateway;
before(async () => {
  upstream = await startCaptureUpstream();
  gateway = await startGateway({
    workers: 2,
    limits: { max_body_bytes: '1MiB', max_buffered_body_bytes: BUDGET },
    observe: { scrape_replicas: false },
    models: [modelConfig('capture', [{ id: 'v1', weight: 1, replicas: [upstream] }], { max_concurrency: 4, max_queue: 8, overflow_status: 503 })],
  });
});
after(async () => {
  await gateway?.stop();
  await upstream?.stop();
});

// VmRSS and VmHWM (peak) of the gateway, in MiB.
function memory() {
  const status = readFileSync(`/proc/${gateway.child.pid}/status`, 'utf8');
  const kib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)[1]);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

// One POST over its own connection; resolves {status, retryAfter, body} or {error}.
function post(body) {
  return new Promise((resolve) => {
    const req = http.request({
      host: '127.0.0.1', port: gateway.port, path: '/v1/chat/completions', method: 'POST', agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' },
      timeout: 30000,
    }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode, retryAfter: res.headers['retry-after'], body: text }));
      res.on('error', (e) => resolve({ error: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ error: e.code ?? e.message }));
    req.end(body);
  });
}

function tally(results) {
  const counts = {};
  for (const r of results) counts[r.status ?? r.error] = (counts[r.status ?? r.error] ?? 0) + 1;
  return counts;
}

test('a burst far past concurrency and queue: 200 or 503 with Retry-After, nothing else', async () => {
  const BURST = 1000;
  const body = JSON.stringify({ model: 'capture', delay_ms: 300, messages: [{ role: 'user', content: 'hi' }] });
  const results = await Promise.all(Array.from({ length: BURST }, () => post(body)));
  const counts = tally(results);
  console.log(`# burst of ${BURST}: ${JSON.stringify(counts)}`);
  for (const r of results) {
    assert.ok(r.status === 200 || r.status === 503, JSON.stringify(r));
    if (r.status === 503) {
      assert.equal(r.retryAfter, '1');
      assert.equal(JSON.parse(r.body).error.code, 'model_overloaded');
    }
  }
  assert.ok(counts[200] >= 4, 'the admitted requests were served');
  assert.ok(counts[503] >= BURST - 4 * 10, 'the rest were shed at once');
});

test('large bodies past the buffered-body budget are shed with 503 before they are read; memory stays bounded', async () => {
  const CLIENTS = 300;
  const padding = 'p'.repeat(MiB - 4096);
  const body = JSON.stringify({ model: 'capture', delay_ms: 500, padding, messages: [{ role: 'user', content: 'hi' }] });
  const before = memory();
  const metricsBefore = await (await fetch(`${gateway.admin}/metrics`)).text();
  const shedBefore = metricValue(metricsBefore, 'deepseek_gateway_requests_shed_total{reason="body_budget"}');
  const results = await Promise.all(Array.from({ length: CLIENTS }, () => post(body)));
  const after = memory();
  const counts = tally(results);
  const shed = metricValue(await (await fetch(`${gateway.admin}/metrics`)).text(), 'deepseek_gateway_requests_shed_total{reason="body_budget"}') - shedBefore;
  console.log(`# ${CLIENTS} clients x ${(body.length / MiB).toFixed(2)} MiB (${(CLIENTS * body.length / MiB).toFixed(0)} MiB offered, budget ${BUDGET / MiB} MiB): ` +
    `${JSON.stringify(counts)}, ${shed} shed before the body; RSS ${before.rss.toFixed(1)} -> peak ${after.peak.toFixed(1)} MiB`);
  for (const r of results) {
    if (r.error) {
      // A client still writing its body when the early 503 and close came may see a reset.
      assert.match(r.error, /ECONNRESET|EPIPE|socket hang up/, JSON.stringify(r));
      continue;
    }
    assert.ok(r.status === 200 || r.status === 503, JSON.stringify(r).slice(0, 300));
    if (r.status === 503) {
      assert.equal(r.retryAfter, '1');
      assert.match(JSON.parse(r.body).error.code, /^(overloaded|model_overloaded)$/);
    }
  }
  assert.ok(shed > 0, 'bodies were shed before being read');
  assert.ok((counts[200] ?? 0) >= 1, 'some requests were served');
  // Unbounded, the bodies alone would need ~300 MiB; the budget holds 16 MiB of them.
  assert.ok(after.peak - before.rss < 150, `peak RSS grew by ${(after.peak - before.rss).toFixed(1)} MiB`);
});

test('after the overload the gateway serves normally', async () => {
  const body = JSON.stringify({ model: 'capture', messages: [{ role: 'user', content: 'hi' }] });
  for (let i = 0; i < 10; ++i) {
    const r = await post(body);
    assert.equal(r.status, 200, JSON.stringify(r));
  }
  const metrics = await (await fetch(`${gateway.admin}/metrics`)).text();
  assert.equal(metricValue(metrics, 'deepseek_requests_in_flight'), 0);
});
