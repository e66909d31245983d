// R6, issue 8's proof: the weekly report rendered by the gateway after a (shortened) demo run,
// with nothing seeded, has every section with data. The run has two halves so that the report's
// period (the second) has a previous period to compare with (week-over-week), and in the second
// half: a rollout and a rollback, a latency fault that fires an alert, drifted input against a
// captured baseline, and an experiment. Rollups every 2 s instead of every minute
// (control.history_interval) keep it short.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, startModel, startGateway, modelConfig, postJson, waitFor } from '../lib/harness.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const CHROMIUM = '/usr/bin/chromium';
let v1;
let v2;
let gateway;
const loads = [];

function load(rate, seconds, prompts) {
  const args = ['load', '--url', `${gateway.url}/v1/chat/completions`, '--rate', String(rate), '--duration', `${seconds}s`, '--classify'];
  if (prompts) args.push('--prompts', prompts);
  const p = spawn(BIN, args, { stdio: 'ignore' });
  loads.push(p);
  return p;
}

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dw-report-demo-'));
  const golden = join(dir, 'golden.jsonl');
  const made = spawnSync(BIN, ['model', 'goldenset', '-o', golden, '--count', '300'], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  v1 = await startModel(['--version', 'v1']);
  v2 = await startModel(['--version', 'v2']);
  gateway = await startGateway({
    observe: { granularity: '1s', windows: ['5s', '1m'], drift_window: '5s', min_samples: 5, scrape_interval: '1s' },
    alerting: {
      default_rules: false, group_wait: '1s', group_interval: '2s',
      // On the median, not the P99: a busy CI machine must not fire it before the fault does.
      rules: [{ name: 'LatencyP50High', expr: 'deepseek_latency_p50_seconds{window="5s"}', warning: 0.2, critical: 0.25, for: '1s', min_samples: 5 }],
    },
    control: {
      history_interval: '2s',
      probes: [{ model: 'fortune', file: golden, interval: '300ms', per_round: 10, window: 200 }],
      rollout: { steps: [50, 100], step_interval: '2s', min_requests: 5, min_probes: 20, p99_ratio: 5 },
    },
    models: [modelConfig('fortune', [
      { id: 'v1', track: 'stable', weight: 100, replicas: [v1] },
      { id: 'v2', track: 'standby', weight: 0, replicas: [v2] },
    ])],
  });
});
after(async () => {
  for (const p of loads) p.kill('SIGINT');
  await gateway?.stop();
  await v1?.stop();
  await v2?.stop();
});

test('a report after a demo run has every section with data', async () => {
  // First half: steady traffic, then the drift baseline from it.
  const start = Date.now();
  load(15, 60);
  await sleep(12000);
  const baseline = await postJson(`${gateway.admin}/admin/v1/baselines/fortune?window=5s`, {});
  assert.equal(baseline.status, 200, baseline.text);
  await sleep(Math.max(0, start + 20000 - Date.now()));

  // Second half.
  const middle = Date.now();
  const deployed = await postJson(`${gateway.admin}/admin/v1/rollouts`, { model: 'fortune', version: 'v2', reason: 'report demo' });
  assert.equal(deployed.status, 200, deployed.text);
  await waitFor(async () => {
    const r = (await (await fetch(`${gateway.admin}/admin/v1/rollouts`)).json()).rollouts?.[0];
    return r && ['promoted', 'rolled_back', 'failed', 'aborted'].includes(r.state) ? r : null;
  }, { timeout: 40000, interval: 500, what: 'the rollout to end' });
  const rolledBack = await postJson(`${gateway.admin}/admin/v1/rollback`, { model: 'fortune', reason: 'report demo' });
  assert.equal(rolledBack.status, 200, rolledBack.text);

  // Input of another kind (English prose instead of the demo's mix): drift against the baseline.
  const prompts = join(mkdtempSync(join(tmpdir(), 'dw-prompts-')), 'drift.txt');
  writeFileSync(prompts, Array.from({ length: 50 }, (_, i) => `the quick brown fox ${i} jumps over the lazy dog again and again`).join('\n'));
  load(10, 12, prompts);

  // A latency fault on the stable replica fires the alert; then it is lifted.
  assert.equal((await postJson(`${v2.url}/fault`, { latency: '300ms', distribution: 'fixed' })).status, 200);
  assert.equal((await postJson(`${v1.url}/fault`, { latency: '300ms', distribution: 'fixed' })).status, 200);
  await waitFor(async () => {
    const a = await (await fetch(`${gateway.admin}/admin/v1/alerts`)).json();
    return a.active?.some((x) => x.labels?.alertname === 'LatencyP50High' || x.name === 'LatencyP50High');
  }, { timeout: 20000, interval: 500, what: 'the latency alert' });
  await postJson(`${v1.url}/fault`, { clear: true });
  await postJson(`${v2.url}/fault`, { clear: true });

  const experiment = await postJson(`${gateway.admin}/admin/v1/experiments`, {
    name: 'demo-ab', model: 'fortune', control: 'v1', treatments: ['v2'], split: { v1: 50, v2: 50 },
    min_samples: { requests: 20, accuracy: 20 }, resamples: 500,
  });
  assert.equal(experiment.status, 200, experiment.text);
  await sleep(Math.max(5000, middle + 20000 - Date.now()));
  const end = Date.now() + 1000;
  await sleep(2500);  // The last rollup.

  const made = await postJson(`${gateway.admin}/admin/v1/reports`, { from: middle, to: end });
  assert.equal(made.status, 200, made.text);
  const stored = await (await fetch(`${gateway.admin}/admin/v1/reports/${made.json.id}`)).json();
  const data = stored.report;
  assert.ok(existsSync(stored.html), stored.html);
  const out = process.env.DW_TEST_OUTPUT_DIR ?? join(tmpdir(), 'deepwatch-test-output');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'report-demo.json'), JSON.stringify(data, null, 2));
  console.log(`# report sections: ${Object.keys(data).join(', ')}`);

  assert.ok(data.accuracy_trend.some((v) => v.mean > 0 && v.accuracy.some((x) => x !== null)), 'accuracy trend');
  assert.ok(data.latency.histogram.some((n) => n > 0) && data.latency.p99_ms > 0, 'latency');
  // The reference model reports its KV-cache usage under vLLM's name; without a GPU, no GPU figure.
  assert.ok(data.hardware.some((v) => v.mean_replicas > 0 && v.max_kv_cache_usage > 0), 'hardware');
  // Counts are released with discrete Laplace noise (scale 3): one event may print as 0, but the
  // event's type and severity are listed.
  assert.ok(data.anomalies.by_type.some((t) => t.type === 'LatencyP50High'), 'anomaly events');
  assert.ok(data.rollouts.rollbacks >= 1, 'rollbacks');
  assert.ok(data.experiments.length >= 1 && data.experiments[0].name === 'demo-ab', 'experiments');
  assert.ok(data.drift.some((v) => v.max_kl > 0), 'drift');
  assert.ok(data.week_over_week.length > 0 && data.week_over_week.some((d) => d.previous !== null && d.previous !== 0), 'week-over-week');
  assert.ok(data.capacity.length > 0 && data.capacity[0].recommended_replicas >= 1, 'capacity');

  // The page itself, as a browser shows it, goes to the test output.
  if (existsSync(CHROMIUM)) {
    const png = join(out, 'report-demo.png');
    const shot = spawnSync(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', `--screenshot=${png}`,
      '--window-size=1280,4000', `file://${stored.html}`], { encoding: 'utf8', timeout: 120000 });
    assert.equal(shot.status, 0, shot.stderr);
    assert.ok(statSync(png).size > 20000, `screenshot of ${statSync(png).size} bytes`);
    console.log(`# screenshot: ${png}`);
  }
});
