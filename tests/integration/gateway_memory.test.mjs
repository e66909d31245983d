// Memory bounds (R10, issue 9): a non-streamed answer larger than
// limits.max_buffered_response_bytes is relayed as it arrives instead of being held whole, so a
// huge upstream answer costs the gateway no more than the limit; and past limits.max_memory_bytes
// the gateway sheds new requests with 503 and Retry-After, keeps its admin API, and serves again
// once the limit is raised.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { startGateway, rewriteConfig, modelConfig, metricValue, waitFor, SANITIZED } from '../lib/harness.mjs';
import { startCaptureUpstream } from '../lib/capture_upstream.mjs';

const MiB = 1024 * 1024;

let upstream;
let gateway;
const config = (limits) => ({
  workers: 1,
  limits,
  observe: { scrape_replicas: false },
  models: [modelConfig('capture', [{ id: 'v1', weight: 1, replicas: [upstream] }])],
});

before(async () => {
  upstream = await startCaptureUpstream();
  gateway = await startGateway(config({ max_buffered_response_bytes: '1MiB', max_memory_bytes: 0 }));
});
after(async () => {
  await gateway?.stop();
  await upstream?.stop();
});

function peakRssMiB() {
  const status = readFileSync(`/proc/${gateway.child.pid}/status`, 'utf8');
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)[1]) / 1024;
}

// One chat completion over its own connection; resolves {status, headers, body}.
function ask(extra) {
  const body = JSON.stringify({ model: 'capture', messages: [{ role: 'user', content: 'hi' }], ...extra });
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port: gateway.port, path: '/v1/chat/completions', method: 'POST', agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function metrics() {
  return (await fetch(`${gateway.admin}/metrics`)).text();
}

test('a small answer is held whole and framed by Content-Length', async () => {
  const r = await ask({ content_bytes: 100 * 1024 });
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-length'], String(Buffer.byteLength(r.body)));
  assert.equal(JSON.parse(r.body).choices[0].message.content.length, 100 * 1024);
  assert.equal(metricValue(await metrics(), 'deepseek_gateway_unbuffered_responses_total'), 0);
});

for (const chunked of [false, true]) {
  test(`a 48 MiB answer (${chunked ? 'chunked' : 'Content-Length'}) passes the 1 MiB hold limit unbuffered, whole`, async () => {
    const before = peakRssMiB();
    const r = await ask({ content_bytes: 48 * MiB, chunked });
    const grew = peakRssMiB() - before;
    console.log(`# 48 MiB answer, ${chunked ? 'chunked' : 'Content-Length'} upstream: peak RSS grew by ${grew.toFixed(1)} MiB`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['transfer-encoding'], 'chunked');
    assert.ok(r.headers['x-request-id']);
    const answer = JSON.parse(r.body);
    assert.equal(answer.choices[0].message.content.length, 48 * MiB);
    if (!SANITIZED) assert.ok(grew < 16, `peak RSS grew by ${grew.toFixed(1)} MiB for a 48 MiB answer`);
  });
}

test('the unbuffered answers are counted, and the gateway answers normally after them', async () => {
  assert.equal(metricValue(await metrics(), 'deepseek_gateway_unbuffered_responses_total'), 2);
  const r = await ask({});
  assert.equal(r.status, 200);
  assert.equal(JSON.parse(r.body).choices[0].message.content, 'captured');
});

test('an upstream that dies in the middle of an unbuffered answer cuts the client short, never a complete-looking answer', async () => {
  const errorsBefore = metricValue(await metrics(), 'deepseek_upstream_errors_total{reason="reset"}') ?? 0;
  const outcome = await ask({ content_bytes: 8 * MiB, chunked: true, die_after_bytes: 3 * MiB }).then(
    (r) => ({ status: r.status, length: r.body.length }),
    (e) => ({ error: e.code ?? e.message }),
  );
  // The 200 and the first megabytes were already sent: the only honest signal left is a chunked
  // body without its last chunk, which Node reports as an aborted response.
  assert.ok(outcome.error, `the client saw a complete answer: ${JSON.stringify(outcome)}`);
  assert.match(outcome.error, /ECONNRESET|aborted/);
  await waitFor(async () => (metricValue(await metrics(), 'deepseek_upstream_errors_total{reason="reset"}') ?? 0) > errorsBefore,
    { what: 'the reset counted' });
  const next = await ask({});
  assert.equal(next.status, 200, 'the gateway serves the next request');
});

test('past limits.max_memory_bytes new requests get 503 with Retry-After; raising it serves again', async () => {
  rewriteConfig(gateway, config({ max_buffered_response_bytes: '1MiB', max_memory_bytes: '1MiB' }));
  gateway.child.kill('SIGHUP');
  await waitFor(async () => metricValue(await metrics(), 'deepseek_gateway_memory_shedding') === 1, { what: 'memory shedding' });
  const shed = await ask({});
  assert.equal(shed.status, 503);
  assert.equal(shed.headers['retry-after'], '1');
  assert.equal(JSON.parse(shed.body).error.code, 'overloaded');
  const text = await metrics();
  assert.ok(metricValue(text, 'deepseek_gateway_requests_shed_total{reason="memory"}') >= 1);
  assert.equal(metricValue(text, 'deepseek_gateway_memory_limit_bytes'), MiB);
  // A sanitizer's allocator replaces glibc's, whose counts then read 0.
  if (!SANITIZED) assert.ok(metricValue(text, 'deepseek_process_heap_bytes{state="in_use"}') > 0);
  assert.equal((await fetch(`${gateway.admin}/healthz`)).status, 200, 'the admin API still answers');

  rewriteConfig(gateway, config({ max_buffered_response_bytes: '1MiB', max_memory_bytes: '4GiB' }));
  gateway.child.kill('SIGHUP');
  await waitFor(async () => metricValue(await metrics(), 'deepseek_gateway_memory_shedding') === 0, { what: 'shedding to stop' });
  const served = await ask({});
  assert.equal(served.status, 200);
});
