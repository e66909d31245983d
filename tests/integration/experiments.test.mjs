// R6: an A/B experiment between two reference model versions of different quality (v2 against
// v0 with degraded answers) under steady load reaches the right verdict: the control, v2, wins
// on the score, with bootstrap intervals; stopping it restores the routes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, startModel, startGateway, modelConfig, postJson, waitFor } from '../lib/harness.mjs';

let good;
let bad;
let gateway;
let load;

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dw-exp-'));
  const golden = join(dir, 'golden.jsonl');
  const made = spawnSync(BIN, ['model', 'goldenset', '-o', golden, '--count', '400'], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  good = await startModel(['--version', 'v2']);
  bad = await startModel(['--version', 'v0', '--quality', 'degraded']);
  gateway = await startGateway({
    observe: { granularity: '1s', windows: ['5s', '1m'] },
    control: { probes: [{ model: 'fortune', file: golden, interval: '300ms', per_round: 10, window: 400 }] },
    models: [modelConfig('fortune', [
      { id: 'v2', track: 'stable', weight: 100, replicas: [good] },
      { id: 'v0', track: 'standby', weight: 0, replicas: [bad] },
    ])],
  });
  load = spawn(BIN, ['load', '--url', `${gateway.url}/v1/chat/completions`, '--rate', '40', '--duration', '300s', '--classify'], { stdio: 'ignore' });
});
after(async () => {
  load?.kill('SIGINT');
  await gateway?.stop();
  await good?.stop();
  await bad?.stop();
});

test('an experiment of a good version against a degraded one declares the good one the winner', async () => {
  const started = await postJson(`${gateway.admin}/admin/v1/experiments`, {
    name: 'v2-vs-v0', model: 'fortune', control: 'v2', treatments: ['v0'],
    split: { v2: 50, v0: 50 }, min_samples: { requests: 100, accuracy: 150 }, resamples: 1000,
    reason: 'integration test',
  });
  assert.equal(started.status, 200, started.text);
  assert.equal(started.json.state, 'running');
  const begin = Date.now();
  const verdict = await waitFor(async () => {
    const r = await (await fetch(`${gateway.admin}/admin/v1/experiments/v2-vs-v0`)).json();
    return r.verdict?.decision === 'winner' || r.verdict?.decision === 'stop_for_harm' ? r.verdict : null;
  }, { timeout: 90000, interval: 500, what: 'a verdict' });
  const seconds = (Date.now() - begin) / 1000;
  const arms = Object.fromEntries(verdict.arms.map((a) => [a.version, a]));
  console.log(`# verdict after ${seconds} s: ${verdict.decision} ${verdict.winner}; accuracy v2 ${arms.v2.accuracy.value.toFixed(3)} v0 ${arms.v0.accuracy.value.toFixed(3)}; score difference ${JSON.stringify(verdict.score_difference)}`);
  assert.equal(verdict.decision, 'winner', JSON.stringify(verdict));
  assert.equal(verdict.winner, 'v2');
  assert.ok(arms.v2.accuracy.value > arms.v0.accuracy.value);
  assert.ok(verdict.score_difference.high < 0, 'the treatment is worse, with confidence');
  // Both arms took traffic.
  assert.ok(arms.v2.requests >= 100 && arms.v0.requests >= 100, JSON.stringify(arms));

  const stopped = await postJson(`${gateway.admin}/admin/v1/experiments/v2-vs-v0/stop`, { reason: 'done' });
  assert.equal(stopped.status, 200, stopped.text);
  assert.equal(stopped.json.state, 'stopped');
  const models = await (await fetch(`${gateway.admin}/admin/v1/models`)).json();
  const versions = JSON.stringify(models);
  assert.match(versions, /v0/);
  const v0 = models.models?.[0]?.versions?.find((v) => v.id === 'v0');
  if (v0) assert.equal(v0.weight, 0);
});

test('a report rendered by the gateway is stored and listed', async () => {
  const now = Date.now();
  const made = await postJson(`${gateway.admin}/admin/v1/reports`, { from: now - 3600000, to: now + 60000 });
  assert.equal(made.status, 200, made.text);
  const list = await (await fetch(`${gateway.admin}/admin/v1/reports`)).json();
  assert.ok(list.reports.some((r) => r.id === made.json.id), JSON.stringify(list));
  const one = await (await fetch(`${gateway.admin}/admin/v1/reports/${made.json.id}`)).json();
  assert.ok(one.report, JSON.stringify(one).slice(0, 500));
  assert.match(readFileSync(one.html, 'utf8'), /<html[\s\S]*Weekly/i);
});
