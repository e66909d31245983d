// The official `openai` npm SDK (v6) through the gateway in front of reference replicas: the
// client of record must see the gateway as an OpenAI-compatible server (ECOSYSTEM.md 1.12).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startModel, startGateway, modelConfig } from '../lib/harness.mjs';

let replicas = [];
let gateway;
let client;
before(async () => {
  replicas = await Promise.all([startModel(['--version', 'v1']), startModel(['--version', 'v2'])]);
  gateway = await startGateway({
    models: [
      modelConfig(
        'fortune',
        [
          { id: 'v1', track: 'stable', weight: 90, replicas: [replicas[0]] },
          { id: 'v2', track: 'canary', weight: 10, replicas: [replicas[1]] },
        ],
        { aliases: ['deepseek-chat'] },
      ),
    ],
  });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
});
after(async () => {
  await gateway?.stop();
  await Promise.all(replicas.map((r) => r.stop()));
});

test('models.list lists the configured models and aliases', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.deepEqual(ids.sort(), ['deepseek-chat', 'fortune']);
});

test('chat through the gateway, with the request id the SDK reads', async () => {
  const { data, request_id } = await client.chat.completions
    .create({ model: 'deepseek-chat', messages: [{ role: 'user', content: 'Computers are' }], max_tokens: 12 })
    .withResponse();
  assert.ok(data.choices[0].message.content.length > 0);
  assert.ok(data.usage.total_tokens > 0);
  assert.match(request_id, /^req_/);
});

test('a stream with include_usage through the gateway', async () => {
  const stream = await client.chat.completions.create({
    model: 'fortune',
    messages: [{ role: 'user', content: '床前明月光' }],
    max_tokens: 10,
    seed: 7, // A fixed draw: an unseeded one can end at its first token, with no text.
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let usage = null;
  for await (const chunk of stream) {
    if (chunk.choices.length) text += chunk.choices[0].delta.content ?? '';
    if (chunk.usage) usage = chunk.usage;
  }
  assert.ok(text.length > 0);
  assert.ok(usage?.completion_tokens > 0);
});

test('logprobs through the gateway', async () => {
  const completion = await client.chat.completions.create({
    model: 'fortune',
    messages: [{ role: 'user', content: 'The law' }],
    max_tokens: 4,
    logprobs: true,
    top_logprobs: 2,
  });
  const content = completion.choices[0].logprobs.content;
  assert.ok(content.length > 0);
  assert.ok(content.every((t) => t.logprob <= 0 && t.top_logprobs.length <= 2));
});

test('errors map onto the SDK error classes', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof OpenAI.NotFoundError && e.code === 'model_not_found' && /^req_/.test(e.requestID),
  );
  await assert.rejects(
    client.chat.completions.create({ model: 'fortune', messages: [{ role: 'user', content: 'x' }], n: 3 }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'n',
  );
  await assert.rejects(
    client.chat.completions.create({ model: 'fortune', messages: 'not a list' }),
    (e) => e instanceof OpenAI.BadRequestError,
  );
});
