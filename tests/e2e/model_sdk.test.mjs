// The official `openai` npm SDK (v6; v7 needs Node 22) against the reference model server: the
// client of record must work unchanged (ECOSYSTEM.md 1.12).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startModel } from '../lib/harness.mjs';

let model;
let client;
before(async () => {
  model = await startModel(['--version', 'v2']);
  client = new OpenAI({ baseURL: `${model.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
});
after(async () => {
  await model?.stop();
});

test('models.list returns the served model', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.deepEqual(ids, ['fortune']);
});

test('chat.completions.create returns text and usage', async () => {
  const completion = await client.chat.completions.create({
    model: 'fortune',
    messages: [{ role: 'user', content: 'Computers are' }],
    max_tokens: 16,
    seed: 11,
  });
  assert.equal(completion.object, 'chat.completion');
  assert.ok(completion.choices[0].message.content.length > 0);
  assert.ok(completion.usage.completion_tokens > 0 && completion.usage.completion_tokens <= 16);
});

test('a stream with include_usage yields chunks and a final usage chunk', async () => {
  const stream = await client.chat.completions.create({
    model: 'fortune',
    messages: [{ role: 'user', content: '白日依山尽' }],
    max_tokens: 10,
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let usage = null;
  let chunks = 0;
  for await (const chunk of stream) {
    chunks += 1;
    if (chunk.choices.length) text += chunk.choices[0].delta.content ?? '';
    if (chunk.usage) usage = chunk.usage;
  }
  assert.ok(chunks >= 3);
  assert.ok(text.length > 0);
  assert.ok(usage && usage.completion_tokens > 0);
});

test('logprobs and classification come back through the SDK', async () => {
  const completion = await client.chat.completions.create({
    model: 'fortune',
    messages: [
      { role: 'system', content: 'classify' },
      { role: 'user', content: 'The senator voted against the bill in Congress.' },
    ],
    logprobs: true,
    top_logprobs: 2,
  });
  const label = completion.choices[0].message.content;
  const lp = completion.choices[0].logprobs.content[0];
  assert.equal(lp.token, label);
  assert.ok(lp.logprob <= 0);
  assert.equal(lp.top_logprobs.length, 2);
});

test('embeddings decode from the base64 the SDK asks for', async () => {
  const result = await client.embeddings.create({ model: 'fortune', input: 'a quiet night', dimensions: 64 });
  const vector = result.data[0].embedding;
  assert.equal(vector.length, 64);
  const norm = Math.sqrt(vector.reduce((s, v) => s + v * v, 0));
  assert.ok(Math.abs(norm - 1) < 1e-5, `unit length, got ${norm}`);
});

test('a bad request raises BadRequestError; an unknown model NotFoundError', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'fortune', messages: [{ role: 'user', content: 'x' }], n: 2 }),
    (error) => error instanceof OpenAI.BadRequestError && error.param === 'n' && error.status === 400,
  );
  await assert.rejects(
    client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }),
    (error) => error instanceof OpenAI.NotFoundError && error.code === 'model_not_found',
  );
});
