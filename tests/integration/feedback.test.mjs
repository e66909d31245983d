// R6: users' judgements through POST /v1/feedback. A rating names an answer by its x-request-id;
// the gateway attributes it to the version that answered, once, counts it on /metrics, and an
// A/B experiment counts it toward the arm's accuracy: with no golden-set probes at all, users
// who check classifications against the truth make the better version win.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, startModel, startGateway, modelConfig, postJson, pool, waitFor, metricValue } from '../lib/harness.mjs';

let good;
let bad;
let gateway;
let golden;

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dw-feedback-'));
  const file = join(dir, 'golden.jsonl');
  const made = spawnSync(BIN, ['model', 'goldenset', '-o', file, '--count', '200'], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  golden = readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
  good = await startModel(['--version', 'v2']);
  bad = await startModel(['--version', 'v0', '--quality', 'degraded']);
  gateway = await startGateway({
    observe: { granularity: '1s', windows: ['5s', '1m'] },
    models: [modelConfig('fortune', [
      { id: 'v2', track: 'stable', weight: 100, replicas: [good] },
      { id: 'v0', track: 'standby', weight: 0, replicas: [bad] },
    ])],
  });
});
after(async () => {
  await gateway?.stop();
  await good?.stop();
  await bad?.stop();
});

const feedback = (body) => postJson(`${gateway.url}/v1/feedback`, body);

test('a rating is attributed to the answering version once, and bad ratings are refused', async () => {
  const answer = await postJson(`${gateway.url}/v1/chat/completions`, { model: 'fortune', messages: golden[0].messages });
  assert.equal(answer.status, 200, answer.text);
  const id = answer.headers.get('x-request-id');
  assert.ok(id);

  const rated = await feedback({ request_id: id, label: 'good', comment: 'right answer' });
  assert.equal(rated.status, 200, rated.text);
  assert.deepEqual(rated.json, { object: 'feedback', request_id: id, model: 'fortune', version: 'v2', verdict: 'positive' });
  assert.equal(rated.headers.get('x-request-id') !== null, true);

  const again = await feedback({ request_id: id, score: 0 });
  assert.equal(again.status, 404, 'an answer is rated once');
  assert.equal(again.json.error.code, 'request_not_found');

  // A client-chosen request id works the same way.
  const own = await postJson(`${gateway.url}/v1/chat/completions`, { model: 'fortune', messages: golden[1].messages }, { 'x-request-id': 'client-42' });
  assert.equal(own.headers.get('x-request-id'), 'client-42');
  const scored = await feedback({ request_id: 'client-42', score: 0.25 });
  assert.equal(scored.status, 200, scored.text);
  assert.equal(scored.json.verdict, 'negative');

  for (const [body, param] of [
    ['{"request_id":', ''],
    [{ score: 1 }, 'request_id'],
    [{ request_id: 'x', score: 2 }, 'score'],
    [{ request_id: 'x', label: 'meh' }, 'label'],
    [{ request_id: 'x', label: 'good', score: 1 }, 'score'],
    [{ request_id: 'x', label: 'good', user: 'u' }, 'user'],
  ]) {
    const r = await feedback(body);
    assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
    assert.equal(r.json.error.type, 'invalid_request_error');
    assert.equal(r.json.error.param ?? '', param);
  }
  const unknown = await feedback({ request_id: 'never-served', label: 'bad' });
  assert.equal(unknown.status, 404);
  const get = await fetch(`${gateway.url}/v1/feedback`);
  assert.equal(get.status, 405);

  const metrics = await (await fetch(`${gateway.admin}/metrics`)).text();
  assert.equal(metricValue(metrics, 'deepseek_feedback_total{model="fortune",version="v2",verdict="positive"}'), 1);
  assert.equal(metricValue(metrics, 'deepseek_feedback_total{model="fortune",version="v2",verdict="negative"}'), 1);
  assert.equal(metricValue(metrics, 'deepseek_feedback_score_count{model="fortune",version="v2"}'), 1);
});

test("users' feedback alone decides an experiment between a good and a degraded version", async () => {
  const started = await postJson(`${gateway.admin}/admin/v1/experiments`, {
    name: 'by-feedback', model: 'fortune', control: 'v0', treatments: ['v2'],
    split: { v0: 50, v2: 50 }, sticky: { source: 'header', header: 'x-user' },
    min_samples: { requests: 60, accuracy: 60 }, resamples: 1000,
    // Accuracy from the ratings alone: the arms' latencies differ by fractions of a millisecond
    // here, noise that the default latency weight would turn into a score on a busy machine.
    weights: { accuracy: 1, latency: 0, efficiency: 0 },
  });
  assert.equal(started.status, 200, started.text);
  const rated = { v0: 0, v2: 0 };
  let n = 0;
  const verdictOf = async () => (await (await fetch(`${gateway.admin}/admin/v1/experiments/by-feedback`)).json()).verdict;
  let verdict;
  for (let round = 0; round < 6 && !(verdict?.decision === 'winner'); ++round) {
    await pool(100, 6, async () => {
      const item = golden[n++ % golden.length];
      const answer = await postJson(`${gateway.url}/v1/chat/completions`, { model: 'fortune', messages: item.messages }, { 'x-user': `user-${n}` });
      assert.equal(answer.status, 200, answer.text);
      // The user knows the right category and says whether the answer got it.
      const right = answer.json.choices[0].message.content.trim() === item.expected;
      const r = await feedback({ request_id: answer.headers.get('x-request-id'), label: right ? 'correct' : 'wrong' });
      assert.equal(r.status, 200, r.text);
      rated[r.json.version] += 1;
    });
    // The verdict reads the aggregated counters of the next tick.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    verdict = await verdictOf();
  }
  const arms = Object.fromEntries(verdict.arms.map((a) => [a.version, a]));
  console.log(`# ratings ${JSON.stringify(rated)}; verdict ${verdict.decision} ${verdict.winner}; accuracy v0 ${arms.v0.accuracy.value} (${arms.v0.accuracy_observations}) v2 ${arms.v2.accuracy.value} (${arms.v2.accuracy_observations})`);
  assert.ok(rated.v0 > 0 && rated.v2 > 0, JSON.stringify(rated));
  // No probes are configured: every accuracy observation is a user's rating.
  assert.equal(arms.v0.accuracy_observations, rated.v0);
  assert.equal(arms.v2.accuracy_observations, rated.v2);
  assert.ok(arms.v2.accuracy.value > arms.v0.accuracy.value);
  assert.equal(verdict.decision, 'winner', JSON.stringify(verdict));
  assert.equal(verdict.winner, 'v2');
  const stopped = await postJson(`${gateway.admin}/admin/v1/experiments/by-feedback/stop`, {});
  assert.equal(stopped.status, 200, stopped.text);

  // The weekly report lists the experiment with its verdict.
  const now = Date.now();
  const report = await postJson(`${gateway.admin}/admin/v1/reports`, { from: now - 3600000, to: now + 60000 });
  assert.equal(report.status, 200, report.text);
  const data = await (await fetch(`${gateway.admin}/admin/v1/reports/${report.json.id}`)).json();
  const listed = JSON.stringify(data);
  assert.match(listed, /by-feedback/);
});
