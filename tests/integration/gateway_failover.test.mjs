// Gateway failure handling against real reference replicas: a replica killed under load loses
// no non-streamed request, streams arrive intact, a replica dying mid-stream ends the stream
// with an in-band error, a client that disconnects cancels the upstream request, and SIGTERM
// drains in-flight work.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  startModel, startGateway, modelConfig, postJson, chat, pool, sseData, waitFor, metricValue,
} from '../lib/harness.mjs';

const started = [];
after(async () => {
  await Promise.all(started.map((p) => p.stop()));
});
async function model(args = []) {
  const m = await startModel(args);
  started.push(m);
  return m;
}
async function gatewayFor(replicas, extra = {}) {
  const g = await startGateway({
    upstream: { health_check: { interval: '200ms', timeout: '500ms' } },
    models: [modelConfig('fortune', [{ id: 'v1', track: 'stable', weight: 100, replicas }])],
    ...extra,
  });
  started.push(g);
  return g;
}

test('killing a replica under load loses no non-streamed request', async () => {
  const a = await model(['--token-latency', '2ms']);
  const b = await model(['--token-latency', '2ms']);
  const c = await model(['--token-latency', '2ms']);
  const g = await gatewayFor([a, b, c]);
  const total = 1500;
  let done = 0;
  const load = pool(total, 24, async () => {
    const r = await postJson(`${g.url}/v1/chat/completions`, chat('The computer', { max_tokens: 8 }));
    done += 1;
    return r;
  });
  await waitFor(() => done > 300, { what: 'load to start' });
  await b.kill();
  const results = await load;
  const failed = results.filter((r) => r.status !== 200);
  assert.equal(failed.length, 0, `failed: ${failed.slice(0, 3).map((r) => r.status + ' ' + r.text).join('; ')}`);
  const metrics = await (await fetch(`${g.admin}/metrics`)).text();
  assert.ok(metricValue(metrics, 'deepseek_upstream_retries_total') >= 1, 'the failures were retried');
});

test('streams arrive intact: every chunk in order, [DONE] last', async () => {
  const m = await model(['--token-latency', '1ms']);
  const g = await gatewayFor([m]);
  for (let seed = 1; seed <= 20; ++seed) {
    const body = chat('春眠不觉晓', { max_tokens: 40, seed, stream: true, stream_options: { include_usage: true } });
    const direct = await postJson(`${m.url}/v1/chat/completions`, body);
    const proxied = await postJson(`${g.url}/v1/chat/completions`, body);
    assert.equal(proxied.status, 200);
    assert.match(proxied.headers.get('content-type'), /^text\/event-stream/);
    const strip = (events) => events.map((e) => (e === '[DONE]' ? e : JSON.parse(e))).map((e) => {
      if (e === '[DONE]') return e;
      const { id, created, ...rest } = e;
      return rest;
    });
    const d = strip(sseData(direct.text));
    const p = strip(sseData(proxied.text));
    assert.deepEqual(p, d, `seed ${seed}`);
    assert.equal(p.at(-1), '[DONE]');
  }
});

test('chunks are relayed as they arrive, not buffered whole', async () => {
  const m = await model(['--token-latency', '150ms']);
  const g = await gatewayFor([m]);
  const body = chat('Computers are', { max_tokens: 6, stream: true, seed: 11 });
  const direct = sseData((await postJson(`${m.url}/v1/chat/completions`, body)).text);
  const tokens = direct.filter((e) => e !== '[DONE]' && JSON.parse(e).choices[0]?.delta?.content).length;
  assert.ok(tokens >= 4, `the model generated ${tokens} tokens`);
  const times = [];
  await new Promise((resolve, reject) => {
    const req = http.request(`${g.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      res.on('data', () => times.push(Date.now()));
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
  // Tokens come 150 ms apart; relayed as they come, the pieces spread over the generation.
  assert.ok(times.length >= tokens - 1, `${times.length} pieces for ${tokens} tokens`);
  assert.ok(times.at(-1) - times[0] >= (tokens - 2) * 150 * 0.8, `spread ${times.at(-1) - times[0]} ms`);
});

test('a replica dying mid-stream ends the stream with an in-band error event', async () => {
  const m = await model(['--token-latency', '100ms']);
  const g = await gatewayFor([m]);
  const body = JSON.stringify(chat('The law', { max_tokens: 50, stream: true, seed: 3 }));
  const text = await new Promise((resolve, reject) => {
    let received = '';
    const req = http.request(`${g.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        received += chunk;
        if (received.includes('"content"') && m.child.exitCode === null && !m.child.killed) m.child.kill('SIGKILL');
      });
      res.on('end', () => resolve(received));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
  const events = sseData(text);
  const last = JSON.parse(events.at(-1));
  assert.equal(last.error.code, 'upstream_error');
  assert.equal(last.error.type, 'server_error');
});

test('a client that disconnects mid-stream cancels the upstream request', async () => {
  const m = await model(['--token-latency', '100ms']);
  const g = await gatewayFor([m]);
  await new Promise((resolve, reject) => {
    const req = http.request(`${g.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', () => {});
    req.end(JSON.stringify(chat('The law', { max_tokens: 200, stream: true, seed: 3 })));
  });
  // The replica sees its stream cut well before 200 tokens (20 s) would be generated.
  await waitFor(async () => {
    const text = await (await fetch(`${m.url}/metrics`)).text();
    return metricValue(text, 'vllm:request_success_total{model_name="fortune",finished_reason="abort"}') === 1;
  }, { timeout: 3000, what: 'the upstream request to be aborted' });
});

test('SIGTERM drains: an in-flight stream completes, then the gateway exits 0', async () => {
  const m = await model(['--token-latency', '50ms']);
  const g = await gatewayFor([m]);
  const inflight = postJson(`${g.url}/v1/chat/completions`, chat('The law', { max_tokens: 12, stream: true, seed: 4 }));
  await sleep(150);
  const exit = g.stop('SIGTERM');
  const r = await inflight;
  assert.equal(r.status, 200);
  assert.equal(sseData(r.text).at(-1), '[DONE]');
  assert.equal((await exit).code, 0);
});
