// Drift end to end (R1.1, R1.2, R2.2): classification traffic through the gateway in front of
// a reference replica. A baseline is captured from English fortunes; unchanged traffic keeps the
// input KL divergence and the label drift index below 0.1; switching to Chinese fortunes moves
// both above 0.3 within two windows.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, startModel, startGateway, modelConfig, postJson, metricValue } from '../lib/harness.mjs';

const CATEGORIES = ['chinese', 'tang300', 'computers', 'science', 'people', 'politics', 'work', 'art'];
const WINDOW_SECONDS = 3;

// Fortunes from the installed corpus (ANSI colour codes stripped), a fixed few per category.
function fortunes(category, count) {
  const text = readFileSync(`/usr/share/games/fortunes/${category}`, 'utf8')
    .replace(/\x1b\[[0-9;]*m/g, '')
    .replace(/.\x08/g, '');
  return text.split(/\n%\n/).map((f) => f.trim()).filter((f) => f.length > 20 && f.length < 400).slice(0, count);
}

let model;
let gateway;
before(async () => {
  model = await startModel(['--version', 'v1']);
  gateway = await startGateway({
    observe: {
      granularity: '1s',
      windows: [`${WINDOW_SECONDS}s`, '1m'],
      drift_window: `${WINDOW_SECONDS}s`,
      min_samples: 30,
      labels: { source: 'content', values: CATEGORIES },
    },
    models: [modelConfig('fortune', [{ id: 'v1', weight: 1, replicas: [model] }])],
  });
});
after(async () => {
  await gateway?.stop();
  await model?.stop();
});

// Sends classification requests cycling through `prompts` until stop() is called.
function traffic(prompts) {
  let running = true;
  let sent = 0;
  const workers = [0, 1, 2].map(async (w) => {
    for (let i = w; running; i += 3) {
      const r = await postJson(`${gateway.url}/v1/chat/completions`, {
        model: 'fortune',
        messages: [{ role: 'system', content: 'classify' }, { role: 'user', content: prompts[i % prompts.length] }],
        logprobs: true,
      });
      assert.equal(r.status, 200, r.text);
      sent += 1;
    }
  });
  return {
    get sent() {
      return sent;
    },
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}

async function drift() {
  const text = await (await fetch(`${gateway.admin}/metrics`)).text();
  return {
    kl: metricValue(text, 'deepseek_input_kl_divergence{model="fortune",feature="script"}'),
    vocabularyKl: metricValue(text, 'deepseek_input_kl_divergence{model="fortune",feature="vocabulary"}'),
    ldi: metricValue(text, 'deepseek_output_label_drift_index{model="fortune"}'),
  };
}

test('English to Chinese traffic moves input KL and the label drift index past 0.3 within two windows', async () => {
  const english = ['computers', 'science', 'people', 'politics', 'work', 'art'].flatMap((c) => fortunes(c, 6));
  const chinese = ['chinese', 'tang300'].flatMap((c) => fortunes(c, 18));
  let load = traffic(english);
  await sleep((WINDOW_SECONDS + 1.5) * 1000);
  const capture = await fetch(`${gateway.admin}/admin/v1/baselines/fortune`, { method: 'POST' });
  assert.equal(capture.status, 200, await capture.text());

  // Unchanged traffic: two more windows, and drift stays low all along.
  let worst = { kl: 0, vocabularyKl: 0, ldi: 0 };
  const calmUntil = Date.now() + 2 * WINDOW_SECONDS * 1000;
  while (Date.now() < calmUntil) {
    await sleep(500);
    const d = await drift();
    for (const k of Object.keys(worst)) if (d[k] !== undefined) worst[k] = Math.max(worst[k], d[k]);
  }
  assert.ok(worst.kl < 0.1, `script KL under unchanged traffic: ${worst.kl}`);
  assert.ok(worst.vocabularyKl < 0.1, `vocabulary KL under unchanged traffic: ${worst.vocabularyKl}`);
  assert.ok(worst.ldi < 0.1, `label drift index under unchanged traffic: ${worst.ldi}`);
  await load.stop();

  // Chinese traffic.
  load = traffic(chinese);
  const switched = Date.now();
  let crossed = null;
  while (Date.now() - switched < 2 * WINDOW_SECONDS * 1000 + 1500) {
    await sleep(200);
    const d = await drift();
    if (d.kl > 0.3 && d.ldi > 0.3) {
      crossed = Date.now() - switched;
      break;
    }
  }
  await load.stop();
  assert.ok(crossed !== null, `drift did not cross 0.3: ${JSON.stringify(await drift())}`);
  assert.ok(crossed <= 2 * WINDOW_SECONDS * 1000, `crossed after ${crossed} ms`);
  console.log(`# drift crossed 0.3 ${crossed} ms after the switch (window ${WINDOW_SECONDS} s)`);
});

test('baselines export as JSON, import back, and survive a restart in SQLite', async () => {
  const exported = await fetch(`${gateway.admin}/admin/v1/baselines/fortune`);
  assert.equal(exported.status, 200);
  const baseline = await exported.json();
  assert.equal(baseline.model, 'fortune');
  assert.ok(baseline.histograms.script.length === 4);
  assert.ok(baseline.labels.includes('computers'));
  const imported = await fetch(`${gateway.admin}/admin/v1/baselines/fortune`, {
    method: 'PUT',
    body: JSON.stringify(baseline),
  });
  assert.equal(imported.status, 200, await imported.text());
  const bad = await fetch(`${gateway.admin}/admin/v1/baselines/fortune`, { method: 'PUT', body: '{"histograms": 3}' });
  assert.equal(bad.status, 400);
  const unknown = await fetch(`${gateway.admin}/admin/v1/baselines/nope`, { method: 'POST' });
  assert.equal(unknown.status, 404);

  // The same through the command line.
  const file = join(mkdtempSync(join(tmpdir(), 'dw-baseline-')), 'fortune.json');
  const exportRun = spawnSync(BIN, ['baseline', '--admin', gateway.admin, 'export', '--model', 'fortune', '-o', file], { encoding: 'utf8' });
  assert.equal(exportRun.status, 0, exportRun.stderr);
  assert.equal(JSON.parse(readFileSync(file, 'utf8')).model, 'fortune');
  const importRun = spawnSync(BIN, ['baseline', '--admin', gateway.admin, 'import', '--model', 'fortune', '-f', file], { encoding: 'utf8' });
  assert.equal(importRun.status, 0, importRun.stderr);
  const failing = spawnSync(BIN, ['baseline', '--admin', gateway.admin, 'capture', '--model', 'nope'], { encoding: 'utf8' });
  assert.equal(failing.status, 1);
  assert.match(failing.stderr, /HTTP 404/);
});
