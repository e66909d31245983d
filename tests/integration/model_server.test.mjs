// The reference model server as a real process on loopback: API shapes, streaming, bad input,
// bounded concurrency, metrics under vLLM's names, fault switches and graceful drain.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startModel, postJson, sseData, chat, waitFor } from '../lib/harness.mjs';

let model;
before(async () => {
  model = await startModel(['--version', 'v1', '--seed', '7']);
});
after(async () => {
  await model?.stop();
});

test('GET /v1/models and /models list the served model', async () => {
  for (const path of ['/v1/models', '/models']) {
    const response = await fetch(model.url + path);
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.equal(body.object, 'list');
    assert.equal(body.data[0].id, 'fortune');
    assert.equal(body.data[0].object, 'model');
    assert.equal(typeof body.data[0].created, 'number');
  }
});

test('a chat completion has the OpenAI shape, usage and an x-request-id', async () => {
  const r = await postJson(`${model.url}/v1/chat/completions`, chat('The computer', { max_tokens: 12 }));
  assert.equal(r.status, 200);
  assert.match(r.headers.get('x-request-id'), /^req_/);
  assert.equal(r.json.object, 'chat.completion');
  const choice = r.json.choices[0];
  assert.equal(choice.message.role, 'assistant');
  assert.equal(typeof choice.message.content, 'string');
  assert.ok(['stop', 'length'].includes(choice.finish_reason));
  assert.equal(choice.logprobs, null);
  assert.equal(r.json.usage.total_tokens, r.json.usage.prompt_tokens + r.json.usage.completion_tokens);
  assert.ok(r.json.usage.completion_tokens <= 12);
});

test('the same seed gives the same completion', async () => {
  const body = chat('Science is', { max_tokens: 20, seed: 42, temperature: 0.9 });
  const a = await postJson(`${model.url}/v1/chat/completions`, body);
  const b = await postJson(`${model.url}/chat/completions`, body);
  assert.equal(a.json.choices[0].message.content, b.json.choices[0].message.content);
});

test('an incoming x-request-id is echoed', async () => {
  const r = await postJson(`${model.url}/v1/chat/completions`, chat('hi', { max_tokens: 2 }), {
    'x-request-id': 'trace-123',
  });
  assert.equal(r.headers.get('x-request-id'), 'trace-123');
});

test('a stream relays every token, the usage chunk, then [DONE]', async () => {
  const r = await postJson(
    `${model.url}/v1/chat/completions`,
    chat('春眠不觉晓', { max_tokens: 8, stream: true, stream_options: { include_usage: true } }),
  );
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/event-stream/);
  const events = sseData(r.text);
  assert.equal(events.at(-1), '[DONE]');
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  const ids = new Set(chunks.map((c) => c.id));
  assert.equal(ids.size, 1, 'every chunk has the same id');
  const usage = chunks.at(-1);
  assert.deepEqual(usage.choices, []);
  const content = chunks.filter((c) => c.choices.length && c.choices[0].delta.content).length;
  assert.equal(usage.usage.completion_tokens, content);
  for (const chunk of chunks.slice(0, -1)) assert.equal(chunk.usage, null);
  assert.ok(chunks.at(-2).choices[0].finish_reason);
});

test('logprobs carry tokens, bytes and sorted top_logprobs', async () => {
  const r = await postJson(
    `${model.url}/v1/chat/completions`,
    chat('The law', { max_tokens: 5, logprobs: true, top_logprobs: 3 }),
  );
  const content = r.json.choices[0].logprobs.content;
  assert.ok(content.length > 0);
  for (const item of content) {
    assert.ok(item.logprob <= 0);
    assert.deepEqual(item.bytes, [...Buffer.from(item.token, 'utf8')]);
    assert.ok(item.top_logprobs.length <= 3);
    for (let i = 1; i < item.top_logprobs.length; ++i) {
      assert.ok(item.top_logprobs[i - 1].logprob >= item.top_logprobs[i].logprob);
    }
  }
});

test('classification answers a label with its log posterior and the runners-up', async () => {
  const r = await postJson(`${model.url}/v1/chat/completions`, {
    model: 'fortune',
    messages: [
      { role: 'system', content: 'classify' },
      { role: 'user', content: '床前明月光，疑是地上霜。举头望明月，低头思故乡。' },
    ],
    logprobs: true,
    top_logprobs: 3,
  });
  assert.equal(r.status, 200);
  const label = r.json.choices[0].message.content;
  assert.ok(['tang300', 'chinese'].includes(label), label);
  const lp = r.json.choices[0].logprobs.content[0];
  assert.equal(lp.token, label);
  assert.equal(lp.top_logprobs.length, 3);
  const viaExtension = await postJson(`${model.url}/v1/chat/completions`, {
    ...chat('Unix is a computer operating system with a kernel and a shell.'),
    deepwatch: { task: 'classify' },
  });
  assert.equal(viaExtension.json.choices[0].message.content, 'computers');
});

test('text completions and embeddings answer in their shapes', async () => {
  const c = await postJson(`${model.url}/v1/completions`, { model: 'fortune', prompt: 'Politics is', logprobs: 2 });
  assert.equal(c.status, 200);
  assert.equal(c.json.object, 'text_completion');
  assert.equal(c.json.choices[0].logprobs.tokens.length, c.json.usage.completion_tokens);
  const e = await postJson(`${model.url}/v1/embeddings`, { model: 'fortune', input: ['a cat', '一只猫'], dimensions: 32 });
  assert.equal(e.status, 200);
  assert.equal(e.json.data.length, 2);
  assert.equal(e.json.data[1].embedding.length, 32);
});

test('bad input gets an OpenAI-shaped 400/404/405/413 naming the field', async () => {
  const cases = [
    ['{"model": "fortune", "messages": [', 400, null, 'invalid_json'],
    [{ messages: [{ role: 'user', content: 'x' }] }, 400, 'model'],
    [{ model: 'fortune', messages: [] }, 400, 'messages'],
    [{ model: 'fortune', messages: [{ role: 'wizard', content: 'x' }] }, 400, 'messages[0].role'],
    [chat('x', { n: 3 }), 400, 'n'],
    [chat('x', { temperature: 'hot' }), 400, 'temperature'],
    [chat('x', { max_tokens: 0 }), 400, 'max_tokens'],
    [chat('x', { stream_options: { include_usage: true } }), 400, 'stream_options'],
    [chat('x', { max_tokens: 100000 }), 400, 'messages', 'context_length_exceeded'],
    [{ model: 'gpt-9', messages: [{ role: 'user', content: 'x' }] }, 404, 'model', 'model_not_found'],
  ];
  for (const [body, status, param, code] of cases) {
    const r = await postJson(`${model.url}/v1/chat/completions`, body);
    assert.equal(r.status, status, JSON.stringify(body));
    assert.equal(typeof r.json.error.message, 'string');
    assert.equal(typeof r.json.error.type, 'string');
    assert.equal(r.json.error.param, param);
    if (code) assert.equal(r.json.error.code, code);
  }
  const wrongMethod = await fetch(`${model.url}/v1/chat/completions`);
  assert.equal(wrongMethod.status, 405);
  const unknown = await fetch(`${model.url}/v2/nothing`);
  assert.equal(unknown.status, 404);
  assert.ok((await unknown.json()).error);
  const big = await postJson(`${model.url}/v1/chat/completions`, chat('x'.repeat(2 * 1024 * 1024)));
  assert.equal(big.status, 413);
  assert.ok(big.json.error);
  // The server is still healthy after all of that.
  assert.equal((await fetch(`${model.url}/health`)).status, 200);
});

test('/metrics exposes vLLM metric names with model_name', async () => {
  await postJson(`${model.url}/v1/chat/completions`, chat('x', { max_tokens: 3 }));
  const text = await (await fetch(`${model.url}/metrics`)).text();
  for (const name of [
    'vllm:num_requests_running{model_name="fortune"}',
    'vllm:num_requests_waiting{model_name="fortune"}',
    'vllm:prompt_tokens_total{model_name="fortune"}',
    'vllm:generation_tokens_total{model_name="fortune"}',
    'vllm:time_to_first_token_seconds_bucket{model_name="fortune",le="+Inf"}',
    'vllm:e2e_request_latency_seconds_count{model_name="fortune"}',
  ]) {
    assert.ok(text.includes(name), name);
  }
  assert.match(text, /# TYPE vllm:time_to_first_token_seconds histogram/);
});

test('/health answers 503 while loading, then 200', async () => {
  const slow = await startModel(['--load-delay', '1500ms'], { ready: false });
  try {
    const loading = await fetch(`${slow.url}/health`);
    assert.equal(loading.status, 503);
    assert.equal((await loading.json()).error.code, 'loading');
    const early = await postJson(`${slow.url}/v1/chat/completions`, chat('x'));
    assert.equal(early.status, 503);
    await waitFor(async () => (await fetch(`${slow.url}/health`)).status === 200, { what: 'ready' });
  } finally {
    await slow.stop();
  }
});

test('bounded concurrency queues requests and sheds beyond the waiting limit', async () => {
  const m = await startModel(['--max-concurrency', '1', '--max-waiting', '2', '--token-latency', '40ms']);
  try {
    const body = chat('The computer', { max_tokens: 10, seed: 1 });
    const requests = [];
    for (let i = 0; i < 3; ++i) requests.push(postJson(`${m.url}/v1/chat/completions`, body));
    const waiting = await waitFor(async () => {
      const text = await (await fetch(`${m.url}/metrics`)).text();
      const match = text.match(/vllm:num_requests_waiting\{model_name="fortune"\} (\d+)/);
      return Number(match[1]) >= 2;
    }, { what: 'two waiting requests' });
    assert.ok(waiting);
    const shed = await postJson(`${m.url}/v1/chat/completions`, body);
    assert.equal(shed.status, 503);
    assert.equal(shed.headers.get('retry-after'), '1');
    const done = await Promise.all(requests);
    for (const r of done) assert.equal(r.status, 200);
  } finally {
    await m.stop();
  }
});

test('fault switches: latency, errors, hang, quality, crash', async () => {
  const m = await startModel(['--seed', '3']);
  try {
    const fault = (body) => postJson(`${m.url}/fault`, body);
    const invalid = await fault({ latncy: '1s' });
    assert.equal(invalid.status, 400);

    assert.equal((await fault({ latency: '300ms' })).status, 200);
    let started = Date.now();
    await postJson(`${m.url}/v1/chat/completions`, chat('x', { max_tokens: 2 }));
    assert.ok(Date.now() - started >= 300, 'injected latency applies');

    await fault({ clear: true, error_rate: 1, error_status: 503 });
    const failed = await postJson(`${m.url}/v1/chat/completions`, chat('x'));
    assert.equal(failed.status, 503);
    assert.equal(failed.headers.get('retry-after'), '1');
    assert.ok(failed.json.error.message.includes('Injected'));

    await fault({ clear: true, hang: true });
    let settled = false;
    const hung = postJson(`${m.url}/v1/chat/completions`, chat('x', { max_tokens: 2 })).then((r) => {
      settled = true;
      return r;
    });
    await sleep(400);
    assert.equal(settled, false, 'a hung request gets no answer');
    await fault({ hang: false });
    assert.equal((await hung).status, 200, 'clearing the hang releases it');

    await fault({ clear: true, quality: 'degraded' });
    const health = await (await fetch(`${m.url}/health`)).json();
    assert.equal(health.quality, 'degraded');
    const degraded = await postJson(`${m.url}/v1/chat/completions`, chat('x', { max_tokens: 1 }));
    assert.equal(degraded.json.system_fingerprint, 'fp_v1_degraded');

    await fault({ clear: true, crash: { after: 2 } });
    assert.equal((await postJson(`${m.url}/v1/chat/completions`, chat('x', { max_tokens: 1 }))).status, 200);
    await postJson(`${m.url}/v1/chat/completions`, chat('x')).catch(() => null);
    const exit = await m.exited;
    assert.equal(exit.signal, 'SIGKILL');
  } finally {
    await m.stop();
  }
});

test('fault flags at start: crash now through the endpoint kills the process', async () => {
  const m = await startModel();
  try {
    const r = await postJson(`${m.url}/fault`, { crash: 'now' }).catch(() => null);
    if (r) assert.equal(r.status, 200);
    assert.equal((await m.exited).signal, 'SIGKILL');
  } finally {
    await m.stop();
  }
});

test('SIGTERM lets an in-flight request finish, then exits 0', async () => {
  const m = await startModel(['--token-latency', '50ms']);
  const inflight = postJson(`${m.url}/v1/chat/completions`, chat('The law', { max_tokens: 10, seed: 5 }));
  await sleep(150);
  const exit = m.stop('SIGTERM');
  const r = await inflight;
  assert.equal(r.status, 200);
  assert.equal((await exit).code, 0);
});
